// Passkeys: sign in with one, and add one on the Security page. Without
// this file (or without WebAuthn in the browser) the passkey forms stay
// hidden or explain that they need it; password sign-in works either way.
// Each form asks the server for the ceremony's options, lets the browser
// create or use the passkey, then posts the browser's answer with the
// form as usual.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !PublicKeyCredential.parseCreationOptionsFromJSON) return;

  function run(form, optionsURL, ceremony) {
    var error = form.querySelector("[data-passkey-error]");
    form.hidden = false;
    form.addEventListener("submit", function (e) {
      if (form.elements.credential.value) return;
      e.preventDefault();
      error.hidden = true;
      var body = new URLSearchParams();
      ["csrf_token", "next"].forEach(function (name) {
        if (form.elements[name]) body.set(name, form.elements[name].value);
      });
      fetch(optionsURL, { method: "POST", body: body, credentials: "same-origin" })
        .then(function (r) {
          if (r.ok) return r.json();
          var fallback = "The server could not start the passkey step (" + r.status + ").";
          return r.json().then(function (body) {
            throw new Error((body && body.error && body.error.message) || fallback);
          }, function () { throw new Error(fallback); });
        })
        .then(function (answer) {
          form.elements.step.value = answer.step;
          return ceremony(answer.options.publicKey);
        })
        .then(function (credential) {
          form.elements.credential.value = JSON.stringify(credential.toJSON());
          form.submit();
        })
        .catch(function (err) {
          error.textContent = (err && err.name === "NotAllowedError")
            ? "The passkey step was cancelled or timed out."
            : String((err && err.message) || err);
          error.hidden = false;
        });
    });
  }

  var login = document.querySelector("[data-passkey-login]");
  if (login) {
    run(login, "/admin/login/passkey/options", function (options) {
      return navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
    });
  }
  var add = document.querySelector("[data-passkey-add]");
  if (add) {
    run(add, "/admin/security/passkeys/options", function (options) {
      return navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) });
    });
  }
})();
