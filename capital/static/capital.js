// Progressive enhancement only: after a refused form, move focus to the error summary so screen
// readers announce it (the summary also carries `autofocus` for browsers that honour it).
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
});

// Phones show tables as stacked label/value rows. Templates label their cells (data-label); for a
// table that doesn't, copy each column's header text into its cells, then let it stack. Without
// this script such a table keeps its header row and scrolls within itself, never the page.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("table:not(.stack)").forEach(function (table) {
    var headers = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.replace(/[▲▼]/g, "").trim();
    });
    if (!headers.length) {
      return;
    }
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, index) {
        if (!cell.hasAttribute("data-label") && headers[index] && !cell.hasAttribute("colspan")) {
          cell.setAttribute("data-label", headers[index]);
        }
      });
    });
    table.classList.add("stack");
  });
});

// A file being imported (secretariat/import_job.html): without this script the person reloads the
// page; with it the progress bar moves by itself, and the report replaces it once the file is done.
document.addEventListener("DOMContentLoaded", function () {
  var status = document.querySelector("[data-import-progress]");
  if (!status || !window.fetch) {
    return;
  }
  var poll = function () {
    fetch(window.location.href, {credentials: "same-origin"}).then(function (response) {
      return response.text();
    }).then(function (text) {
      var page = new DOMParser().parseFromString(text, "text/html");
      var next = page.querySelector("[data-import-progress]");
      if (!next) {
        window.location.reload();
        return;
      }
      status.replaceWith(next);
      status = next;
      window.setTimeout(poll, 2000);
    }).catch(function () {
      window.setTimeout(poll, 5000);
    });
  };
  window.setTimeout(poll, 2000);
});
