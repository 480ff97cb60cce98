// Drag and drop for the classify form: the dropped file goes into the form's file input, then the form is posted as usual.
(function () {
    "use strict";
    var zone = document.getElementById("dropzone");
    var input = document.getElementById("file");
    var chosen = document.getElementById("chosen");
    if (!zone || !input) return;
    var max = Number(input.getAttribute("data-max-bytes") || "0");
    function tooLarge() { return max > 0 && input.files && input.files.length && input.files[0].size > max; }
    function show() {
        input.setCustomValidity(tooLarge() ? input.getAttribute("data-too-large") || "The document is too large." : "");
        chosen.textContent = input.files && input.files.length ? "Selected: " + input.files[0].name : "";
    }
    input.addEventListener("change", show);
    ["dragenter", "dragover"].forEach(function (name) {
        zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
        zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) {
        if (!e.dataTransfer || !e.dataTransfer.files.length) return;
        input.files = e.dataTransfer.files;
        show();
        if (input.form && !tooLarge()) input.form.requestSubmit();
        else if (tooLarge()) input.reportValidity();
    });
}());
