// Progressive enhancement for the slot picker (booking and reschedule
// pages). Without this file the pages work through plain links and forms;
// with it, the visitor's time zone is detected, days switch without a page
// load, and the chosen time is summed up above the submit button.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var params = new URLSearchParams(location.search);

  // Detect the zone once, when neither the URL nor the page (a form shown
  // again after a POST) names one the server knows.
  var unsure = document.querySelector("[data-tz-note]");
  if (!document.querySelector("[data-tz-known]") && (!params.get("tz") || unsure)) {
    try {
      var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (tz && tz !== params.get("tz")) {
        // The page knows where the visit came from even when its address
        // does not (the other site sent only a Referer): keep it, or the
        // reload's referrer would be this very page.
        var ref = document.querySelector('input[name="ref"]');
        if (ref && ref.value && !params.get("ref")) params.set("ref", ref.value);
        params.set("tz", tz); location.replace(location.pathname + "?" + params.toString()); return;
      }
    } catch (e) { /* keep the server's default zone */ }
    if (unsure) unsure.querySelectorAll(".js-only").forEach(function (el) { el.remove(); });
  }

  var tzSelect = document.querySelector("[data-autosubmit]");
  if (tzSelect) tzSelect.addEventListener("change", function () { tzSelect.form.submit(); });

  var times = document.querySelector("[data-times]");
  var legend = document.querySelector("[data-times-legend]");
  var choice = document.querySelector("[data-choice]");
  var days = document.querySelectorAll(".calendar a[data-date]");
  var zone = (document.querySelector("input[name=timezone]") || {}).value;
  // Dates in the page's language; the page gives the words.
  var lang = { en: "en-GB", de: "de-DE", es: "es-ES" }[document.documentElement.lang] || "en-GB";

  function fmt(d, opts) {
    opts.timeZone = zone;
    try { return new Intl.DateTimeFormat(lang, opts).format(d); } catch (e) { return d.toISOString(); }
  }
  function fmtDay(d) { return fmt(d, { weekday: "long", day: "numeric", month: "long", year: "numeric" }); }
  function fmtTime(d) { return fmt(d, { hour: "2-digit", minute: "2-digit", hour12: false }); }
  function fmtZone(d) {
    try {
      var parts = new Intl.DateTimeFormat(lang, { timeZone: zone, timeZoneName: "short" }).formatToParts(d);
      for (var i = 0; i < parts.length; i++) if (parts[i].type === "timeZoneName") return parts[i].value;
    } catch (e) { /* no zone name */ }
    return "";
  }

  // Sum up the chosen time next to the submit button, so the visitor sees
  // what they are booking without scrolling back.
  function showChoice(input) {
    if (!choice) return;
    choice.textContent = "";
    if (!input) return;
    var start = new Date(input.value);
    var end = new Date(start.getTime() + 6e4 * Number(times.getAttribute("data-minutes") || 0));
    var p = document.createElement("p");
    var label = document.createElement("span"); label.className = "choice-label"; label.textContent = choice.getAttribute("data-label") || "Your call";
    var muted = document.createElement("span"); muted.className = "muted"; muted.textContent = "(" + fmtZone(start) + ")";
    p.appendChild(label);
    p.appendChild(document.createTextNode(fmtDay(start) + ", " + fmtTime(start) + " – " + fmtTime(end) + " "));
    p.appendChild(muted);
    choice.appendChild(p);
  }
  if (times) {
    times.addEventListener("change", function (e) { if (e.target.name === "start") showChoice(e.target); });
  }

  function show(date, link) {
    var url = "/api/v1/slots?from=" + date + "&to=" + date + "&tz=" + encodeURIComponent(zone);
    // A role page with questions lists only the times of the hosts its
    // answers route to.
    var routed = document.querySelector("[data-slots-query]");
    if (routed) url += "&" + routed.getAttribute("data-slots-query");
    var form = times.getAttribute("data-form");
    times.setAttribute("aria-busy", "true");
    fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    }).then(function (data) {
      if (!data.slots.length) throw new Error("no slots");
      times.textContent = "";
      data.slots.forEach(function (s, i) {
        var label = document.createElement("label");
        var input = document.createElement("input"); input.type = "radio"; input.name = "start"; input.value = s.start; input.required = i === 0;
        times.setAttribute("data-minutes", (Date.parse(s.end) - Date.parse(s.start)) / 6e4);
        if (form) input.setAttribute("form", form);
        var span = document.createElement("span"); span.textContent = fmtTime(new Date(s.start));
        label.appendChild(input); label.appendChild(span); times.appendChild(label);
      });
      if (legend) legend.textContent = (legend.getAttribute("data-legend") || "Free times on {day}").replace("{day}", fmtDay(new Date(data.slots[0].start)));
      days.forEach(function (a) { a.classList.remove("is-selected"); a.removeAttribute("aria-current"); });
      link.classList.add("is-selected"); link.setAttribute("aria-current", "date");
      days.forEach(function (a) { a.tabIndex = a === link ? 0 : -1; });
      times.removeAttribute("aria-busy");
      showChoice(null);
      var first = times.querySelector("input"); if (first) first.focus();
      history.replaceState(null, "", link.href);
    }).catch(function () { location.href = link.href; });
  }

  if (times && days.length) {
    days.forEach(function (a) {
      a.addEventListener("click", function (e) {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault(); show(a.getAttribute("data-date"), a);
      });
    });
  }
  daysByKeyboard(days);

  // The day grid is one Tab stop (WAI-ARIA's date grid): the chosen day
  // takes focus, arrow keys move by day and week, Home and End to the
  // week's first and last day, Enter or Space picks the day. Only days
  // with free times are listed, so a move lands on the nearest listed day.
  function daysByKeyboard(links) {
    if (!links.length) return;
    var list = Array.prototype.slice.call(links);
    var dayOf = function (a) { return Date.parse(a.getAttribute("data-date") + "T00:00:00Z") / 864e5; };
    var rove = function (to) { list.forEach(function (a) { a.tabIndex = a === to ? 0 : -1; }); };
    rove(list.filter(function (a) { return a.classList.contains("is-selected"); })[0] || list[0]);
    list.forEach(function (a) { a.addEventListener("focus", function () { rove(a); }); });
    var nearest = function (day, forward) {
      var pick = null;
      list.forEach(function (a) {
        var d = dayOf(a);
        if (forward ? d >= day && (!pick || d < dayOf(pick)) : d <= day && (!pick || d > dayOf(pick))) pick = a;
      });
      return pick;
    };
    var inWeek = function (a, last) {
      var d = dayOf(a), monday = d - (new Date(d * 864e5).getUTCDay() + 6) % 7;
      return last ? nearest(monday + 6, false) : nearest(monday, true);
    };
    list.forEach(function (a, i) {
      a.addEventListener("keydown", function (e) {
        if (e.altKey || e.ctrlKey || e.metaKey) return;
        var to = null;
        switch (e.key) {
          case "ArrowRight": to = list[i + 1]; break;
          case "ArrowLeft": to = list[i - 1]; break;
          case "ArrowDown": to = nearest(dayOf(a) + 7, true); break;
          case "ArrowUp": to = nearest(dayOf(a) - 7, false); break;
          case "Home": to = inWeek(a, false); break;
          case "End": to = inWeek(a, true); break;
          case " ": e.preventDefault(); a.click(); return;
          default: return;
        }
        e.preventDefault();
        if (to) { rove(to); to.focus(); }
      });
    });
  }

  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
