// Inside the frame that web/static/embed.js puts on another site's page:
// tells embed.js on that page that a page of the flow is showing (so it
// knows the frame was not refused, and can scroll to a new step), the
// height of the booking flow, so the frame fits it, and that a call was
// booked (embed.js tells the page). Messages go only to the embedding origin the
// server accepted (data-embed-origin, one of CALLBOOK_EMBED_ORIGINS): the
// browser drops them if the frame sits on any other page. The pages work
// the same without this file, in a frame of fixed height.
(function () {
  "use strict";
  var origin = document.documentElement.getAttribute("data-embed-origin");
  if (!origin || window.parent === window) return;
  // Where the browser names the frame's parent (Chromium, Safari), it
  // must be that origin too.
  var ancestors = location.ancestorOrigins;
  if (ancestors && ancestors.length && ancestors[0] !== origin) return;

  function send(msg) { window.parent.postMessage(msg, origin); }
  // A name for this page of the flow, so tests can tell which page's ready
  // message the embedding page has seen; it says nothing about the visitor.
  var page = Math.random().toString(36).slice(2, 10);
  document.documentElement.setAttribute("data-embed-page", page);
  send({ type: "callbook:frame:ready", page: page });

  var root = document.querySelector("[data-embed-root]") || document.body;
  var last = 0;
  function size() {
    var h = Math.ceil(root.getBoundingClientRect().height);
    if (h !== last) { last = h; send({ type: "callbook:frame:resize", height: h }); }
  }
  if (window.ResizeObserver) new ResizeObserver(size).observe(root);
  window.addEventListener("load", size);
  size();

  var booked = document.querySelector("[data-booked]");
  if (booked) send({ type: "callbook:frame:booked", booking_id: Number(booked.getAttribute("data-booked")) });
})();
