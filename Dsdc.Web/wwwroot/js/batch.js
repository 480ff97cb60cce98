// Follows an upload batch through the pipeline: asks for its status every few seconds and updates the stage cells.
(function () {
    "use strict";
    var table = document.getElementById("batch");
    var progress = document.querySelector("[data-testid=batch-progress]");
    if (!table || !progress) return;
    var url = table.getAttribute("data-status-url");
    var started = Date.now();
    var names = { image: "image", ocr: "ocr", text: "text", embedding: "embedding" };

    function update(status) {
        (status.files || []).forEach(function (f) {
            if (!f.documentId || !f.stages) return;
            var row = table.querySelector("tr[data-document-id='" + f.documentId + "']");
            if (!row) return;
            Object.keys(names).forEach(function (stage) {
                var cell = row.querySelector("td[data-stage=" + stage + "]");
                if (!cell) return;
                var failed = f.stages.failedStage === stage;
                cell.textContent = f.stages[stage] ? "done" : failed ? "failed" : "waiting";
            });
        });
        var failed = status.failed || 0;
        progress.textContent = status.processed + " of " + status.accepted + " through the pipeline" +
            (failed > 0 ? ", " + failed + " failed at a stage (see each document)." : ".");
        return status.processed + failed < status.accepted;
    }

    function poll() {
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
            .then(function (r) { return r.ok ? r.json() : null; })
            .then(function (status) {
                var more = status ? update(status) : false;
                // Stop after half an hour: the page can be reloaded to see later progress.
                if (more && Date.now() - started < 30 * 60 * 1000) setTimeout(poll, 3000);
            })
            .catch(function () { setTimeout(poll, 10000); });
    }

    setTimeout(poll, 1500);
}());
