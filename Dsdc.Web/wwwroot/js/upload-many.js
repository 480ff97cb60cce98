// Drag and drop of many files or whole folders for the upload form: what is dropped goes into the form's file input
// (folders are walked), the browser checks the limits, then the form is posted as usual.
(function () {
    "use strict";
    var form = document.getElementById("many-form");
    var zone = document.getElementById("many-drop");
    var files = document.getElementById("files");
    var folder = document.getElementById("folder");
    var chosen = document.getElementById("many-chosen");
    if (!form || !zone || !files) return;
    var maxBytes = Number(form.getAttribute("data-max-bytes") || "0");
    var maxFiles = Number(form.getAttribute("data-max-files") || "0");
    var maxTotal = Number(form.getAttribute("data-max-total") || "0");

    // Files an operating system writes beside documents (a Mac's .DS_Store and ._name, Windows' Thumbs.db, desktop.ini):
    // not counted here, and left out by the server, as the inbox leaves them out.
    function isSystemFile(name) {
        return /^(\.ds_store|thumbs\.db|ehthumbs\.db|desktop\.ini)$/i.test(name) || (name.indexOf("._") === 0 && name.length > 2);
    }

    function all() {
        var list = [];
        [files, folder].forEach(function (input) {
            if (input && input.files) for (var i = 0; i < input.files.length; i++) {
                if (!isSystemFile(input.files[i].name)) list.push(input.files[i]);
            }
        });
        return list;
    }

    function check() {
        var list = all();
        var total = list.reduce(function (s, f) { return s + f.size; }, 0);
        var big = list.filter(function (f) { return maxBytes > 0 && f.size > maxBytes; })[0];
        var message = big ? "'" + big.name + "' is larger than the limit of one file."
            : maxFiles > 0 && list.length > maxFiles ? list.length + " files: at most " + maxFiles + " go in one upload."
            : maxTotal > 0 && total > maxTotal ? "These files are larger than the limit of one upload together." : "";
        files.setCustomValidity(message);
        chosen.textContent = list.length ? list.length + " file" + (list.length === 1 ? "" : "s") + " selected" + (message ? ": " + message : ".") : "";
    }

    function walk(entry, out) {
        return new Promise(function (resolve) {
            if (entry.isFile) {
                if (isSystemFile(entry.name)) { resolve(); return; }
                entry.file(function (f) { out.push(f); resolve(); }, function () { resolve(); });
            } else if (entry.isDirectory) {
                var reader = entry.createReader();
                var read = function () {
                    reader.readEntries(function (entries) {
                        if (!entries.length) { resolve(); return; }
                        Promise.all(entries.map(function (e) { return walk(e, out); })).then(read);
                    }, function () { resolve(); });
                };
                read();
            } else {
                resolve();
            }
        });
    }

    [files, folder].forEach(function (input) { if (input) input.addEventListener("change", check); });
    form.addEventListener("submit", function () {
        var n = all().length;
        if (n) chosen.textContent = "Uploading and checking " + n + " file" + (n === 1 ? "" : "s") + "…";
    });
    ["dragenter", "dragover"].forEach(function (name) {
        zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
        zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) {
        if (!e.dataTransfer) return;
        var items = e.dataTransfer.items;
        var entries = [];
        if (items) for (var i = 0; i < items.length; i++) {
            var entry = items[i].webkitGetAsEntry ? items[i].webkitGetAsEntry() : null;
            if (entry) entries.push(entry);
        }
        var collect = entries.length
            ? (function () { var out = []; return Promise.all(entries.map(function (en) { return walk(en, out); })).then(function () { return out; }); }())
            : Promise.resolve(Array.prototype.slice.call(e.dataTransfer.files));
        collect.then(function (list) {
            var transfer = new DataTransfer();
            list.forEach(function (f) { transfer.items.add(f); });
            files.files = transfer.files;
            if (folder) folder.value = "";
            check();
        });
    });
}());
