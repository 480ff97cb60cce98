// Keyboard use of the review queue: j/k or arrows move, Enter or c confirms, 1-3 choose a top class, x selects.
// Without this script every decision still works with the buttons and the class list.
(function () {
    "use strict";
    var items = Array.prototype.slice.call(document.querySelectorAll("li.review-item"));
    if (!items.length) return;
    var index = Math.max(0, items.findIndex(function (li) { return li.classList.contains("current"); }));

    function select(i, focus) {
        index = Math.max(0, Math.min(items.length - 1, i));
        items.forEach(function (li, n) {
            li.classList.toggle("current", n === index);
            if (n === index) li.setAttribute("aria-current", "true"); else li.removeAttribute("aria-current");
        });
        if (focus) {
            items[index].focus();
            items[index].scrollIntoView({ block: "nearest" });
        }
    }

    function click(selector) {
        var target = items[index].querySelector(selector);
        if (target) target.click();
        return !!target;
    }

    // Focus starts on the current document, so the keys work at once after each decision.
    select(index, true);

    items.forEach(function (li, n) {
        li.addEventListener("focusin", function () { if (n !== index) select(n, false); });
    });

    document.addEventListener("keydown", function (e) {
        if (e.ctrlKey || e.metaKey || e.altKey) return;
        var t = e.target;
        // Typing in a field or choosing in the class list keeps its usual keys; Enter on a button presses that button.
        if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA" || t.tagName === "BUTTON" || t.tagName === "A")) return;
        var handled = true;
        switch (e.key) {
            case "j": case "ArrowDown": select(index + 1, true); break;
            case "k": case "ArrowUp": select(index - 1, true); break;
            case "Enter": case "c": handled = click("button[data-key='1']"); break;
            case "1": case "2": case "3": handled = click("button[data-key='" + e.key + "']"); break;
            case "x": handled = click("input[type=checkbox]"); break;
            default: handled = false;
        }
        if (handled) e.preventDefault();
    });
}());
