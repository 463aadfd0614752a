// Callbook's booking widget. Put it where the booking flow should appear:
//
//   <script src="https://book.example.com/static/embed.js" data-role="backend-engineer" async></script>
//
// It inserts the flow in a frame in place of the tag, passes this page's
// utm_* parameters, its address and its referrer on to the lead, makes the
// frame as tall as its content, and, when a call is booked, posts
// {type: "callbook:booked", booking_id: …} to this page (a "message" event
// whose origin is this page's own). After each step inside the frame it
// brings the frame's top into view, so a visitor on a phone sees the next
// step's heading rather than the middle of the last one. No dependencies;
// the site must be listed in Callbook's CALLBOOK_EMBED_ORIGINS: when it is
// not, Callbook refuses to be framed here, and this script folds the frame
// away, leaves a link to the booking page, and says why in the console.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src || script.getAttribute("data-callbook-done")) return;
  script.setAttribute("data-callbook-done", "1");
  var role = script.getAttribute("data-role");
  if (!role) { if (window.console) console.error("callbook embed.js: add data-role=\"<role page slug>\" to the script tag"); return; }
  var callbook = new URL(script.src, location.href).origin;

  var q = new URLSearchParams();
  new URLSearchParams(location.search).forEach(function (v, k) { if (/^utm_(source|medium|campaign|term|content)$/.test(k)) q.set(k, v); });
  q.set("page", location.href);
  if (document.referrer) q.set("ref", document.referrer);
  q.set("origin", location.origin);
  // The visitor's zone, so the frame shows their times at once.
  try { var tz = Intl.DateTimeFormat().resolvedOptions().timeZone; if (tz) q.set("tz", tz); } catch (e) { /* the frame detects it */ }

  var frame = document.createElement("iframe");
  frame.src = callbook + "/embed/roles/" + encodeURIComponent(role) + "/book?" + q.toString();
  frame.title = script.getAttribute("data-title") || "Book a discovery call";
  frame.setAttribute("data-callbook-frame", role);
  frame.style.cssText = "display:block;width:100%;min-width:280px;height:720px;border:0;overflow:hidden";
  script.parentNode.insertBefore(frame, script);

  // Each page of the flow says "ready" once it runs inside the frame. A
  // frame that loads without one was refused (its origin is not allowed,
  // so the browser shows an error box instead); the grace period covers a
  // ready message that arrives just after the frame's load event.
  var pages = 0;
  frame.addEventListener("load", function () {
    if (pages) return;
    setTimeout(function () { if (!pages) refused(); }, 3000);
  });
  function refused() {
    if (frame.getAttribute("data-callbook-refused")) return;
    frame.setAttribute("data-callbook-refused", "1");
    frame.style.display = "none";
    var link = document.createElement("a");
    link.href = callbook + "/roles/" + encodeURIComponent(role) + "/book?" + q.toString();
    link.textContent = frame.title;
    link.setAttribute("data-callbook-link", role);
    frame.parentNode.insertBefore(link, frame);
    if (window.console) {
      console.warn("callbook embed.js: " + callbook + " refused to show the booking flow on " + location.origin +
        ". Add " + location.origin + " to CALLBOOK_EMBED_ORIGINS on the Callbook server; until then this page links to the booking page instead.");
    }
  }
  // A new step inside the frame: bring the frame's top into view when
  // it is off screen, as a page load would.
  function stepShown(page) {
    pages++;
    frame.setAttribute("data-callbook-ready", String(pages));
    if (typeof page === "string") frame.setAttribute("data-callbook-page", page.slice(0, 16));
    if (pages === 1) return;
    var top = frame.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight) frame.scrollIntoView({ block: "start" });
  }

  window.addEventListener("message", function (e) {
    // Only this frame, showing Callbook, may resize it or report a booking.
    if (e.origin !== callbook || e.source !== frame.contentWindow) return;
    var d = e.data;
    if (!d || typeof d !== "object") return;
    if (d.type === "callbook:frame:ready") {
      stepShown(d.page);
    } else if (d.type === "callbook:frame:resize" && typeof d.height === "number" && d.height > 0 && d.height < 20000) {
      frame.style.height = Math.ceil(d.height) + "px";
    } else if (d.type === "callbook:frame:booked" && typeof d.booking_id === "number") {
      // To this page only: its listeners see this page's own origin.
      window.postMessage({ type: "callbook:booked", booking_id: d.booking_id }, location.origin);
    }
  });
})();
