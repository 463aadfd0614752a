// Progressive enhancement for the slot picker. Without this file the page
// works through plain links and forms; with it, the visitor's time zone is
// detected and days switch without a page load.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var params = new URLSearchParams(location.search);

  // Detect the zone once, when the URL does not name one.
  if (!params.get("tz")) {
    try {
      var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (tz) { params.set("tz", tz); location.replace(location.pathname + "?" + params.toString()); return; }
    } catch (e) { /* keep the server's default zone */ }
  }

  var tzSelect = document.querySelector("[data-autosubmit]");
  if (tzSelect) tzSelect.addEventListener("change", function () { tzSelect.form.submit(); });

  var times = document.querySelector("[data-times]");
  var legend = document.querySelector(".times legend");
  var days = document.querySelectorAll(".days a[data-date]");
  if (!times || !days.length) return;
  var zone = (document.querySelector("input[name=timezone]") || {}).value;

  function fmtDay(d) {
    return new Intl.DateTimeFormat("en-GB", { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: zone }).format(d);
  }
  function fmtTime(d) {
    return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: zone }).format(d);
  }

  function show(date, link) {
    var url = "/api/v1/slots?from=" + date + "&to=" + date + "&tz=" + encodeURIComponent(zone);
    times.setAttribute("aria-busy", "true");
    fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    }).then(function (data) {
      times.textContent = "";
      data.slots.forEach(function (s) {
        var label = document.createElement("label"); label.className = "time";
        var input = document.createElement("input"); input.type = "radio"; input.name = "start"; input.value = s.start; input.required = true;
        var span = document.createElement("span"); span.textContent = fmtTime(new Date(s.start));
        label.appendChild(input); label.appendChild(span); times.appendChild(label);
      });
      if (legend && data.slots.length) legend.textContent = "Free times on " + fmtDay(new Date(data.slots[0].start));
      days.forEach(function (a) { a.classList.remove("is-selected"); a.removeAttribute("aria-current"); });
      link.classList.add("is-selected"); link.setAttribute("aria-current", "date");
      times.removeAttribute("aria-busy");
      var first = times.querySelector("input"); if (first) first.focus();
      history.replaceState(null, "", link.href);
    }).catch(function () { location.href = link.href; });
  }

  days.forEach(function (a) {
    a.addEventListener("click", function (e) {
      if (e.metaKey || e.ctrlKey || e.shiftKey) return;
      e.preventDefault(); show(a.getAttribute("data-date"), a);
    });
  });

  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
