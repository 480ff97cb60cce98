// The pages of a PDF as DSDC reads them, for `mutool run pdf-pages.js FILE [MAX_PAGES]` (MuPDF's JavaScript, mujs): a line
// "encrypted" when the PDF needs a password; otherwise "pages N", then "page WIDTH HEIGHT" for each page, in points,
// as `mutool draw` renders it (crop box within the media box, rotation and user unit applied). Nothing here draws or
// parses a page's content stream: a page whose drawing inflates to gigabytes costs nothing to measure.
var doc = new PDFDocument(scriptArgs[0]); // a PDF whatever its name says (mutool goes by the extension otherwise)
if (doc.needsPassword()) {
    print("encrypted");
    quit();
}
var count = doc.countPages();
print("pages " + count);
if (scriptArgs.length > 1 && count > Number(scriptArgs[1]))
    quit(); // over the page limit: refused on the count alone
for (var i = 0; i < count; i++) {
    var page = doc.loadPage(i);
    var bounds = page.getBounds ? page.getBounds() : page.bound(); // MuPDF 1.23 renamed bound (Debian 12 has 1.21)
    print("page " + (bounds[2] - bounds[0]) + " " + (bounds[3] - bounds[1]));
}
