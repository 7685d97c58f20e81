// The pages' one script: progressive enhancement only. Copy buttons copy a shown secret; passkeys
// (issue 21) need the browser's WebAuthn API by nature. The browser talks to the authenticator; the server
// checks everything. Binary WebAuthn fields travel as base64url, as webauthn-rs writes and reads them.
(function () {
  "use strict";

  // <button data-copy="ID">: copies the value of the element ID (a read-only field with a secret).
  document.querySelectorAll("button[data-copy]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      var field = document.getElementById(b.dataset.copy);
      field.select();
      (navigator.clipboard ? navigator.clipboard.writeText(field.value) : Promise.reject())
        .then(function () { b.textContent = "Copied"; })
        .catch(function () { document.execCommand("copy"); b.textContent = "Copied"; });
    });
  });

  // The groups page: what a group gives, shown as the boxes are ticked (the server's answer on saving is
  // the same): what every user holds, and the scopes each ticked box's grant gives.
  var groups = document.getElementById("groups");
  if (groups) {
    var order = groups.dataset.catalog.split(" ");
    groups.querySelectorAll("section.group").forEach(function (section) {
      var shown = section.querySelector(".effective");
      var boxes = section.querySelectorAll("input[name=grant]");
      function preview() {
        var given = {};
        groups.dataset.base.split(" ").forEach(function (s) { given[s] = true; });
        boxes.forEach(function (box) {
          if (box.checked) box.dataset.gives.split(" ").forEach(function (s) { given[s] = true; });
        });
        shown.textContent = order.filter(function (s) { return given[s]; }).join(" ");
      }
      boxes.forEach(function (box) { box.addEventListener("change", preview); });
    });
  }

  function toBytes(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    return Uint8Array.from(atob(s), function (c) { return c.charCodeAt(0); });
  }

  function toB64(buf) {
    var bytes = new Uint8Array(buf), s = "";
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: toBytes(c.id) }); });
  }

  function creationOptions(pk) {
    return Object.assign({}, pk, {
      challenge: toBytes(pk.challenge),
      user: Object.assign({}, pk.user, { id: toBytes(pk.user.id) }),
      excludeCredentials: withIds(pk.excludeCredentials),
    });
  }

  function requestOptions(pk) {
    return Object.assign({}, pk, { challenge: toBytes(pk.challenge), allowCredentials: withIds(pk.allowCredentials) });
  }

  function registration(cred) {
    return {
      id: cred.id, rawId: toB64(cred.rawId), type: cred.type,
      response: {
        attestationObject: toB64(cred.response.attestationObject),
        clientDataJSON: toB64(cred.response.clientDataJSON),
      },
    };
  }

  function assertion(cred) {
    var r = cred.response;
    return {
      id: cred.id, rawId: toB64(cred.rawId), type: cred.type,
      response: {
        authenticatorData: toB64(r.authenticatorData),
        clientDataJSON: toB64(r.clientDataJSON),
        signature: toB64(r.signature),
        userHandle: r.userHandle ? toB64(r.userHandle) : null,
      },
    };
  }

  function say(el, text) {
    if (el) { el.textContent = text; el.hidden = false; }
  }

  async function postJson(url, body, headers) {
    var res = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: Object.assign({ "Content-Type": "application/json" }, headers || {}),
      body: JSON.stringify(body),
    });
    var data = await res.json().catch(function () { return {}; });
    if (!res.ok) throw new Error(data.detail || data.error_description || data.title || ("HTTP " + res.status));
    return data;
  }

  // /login: "Sign in with a passkey" (discoverable) or the passkey step after the password.
  var signIn = document.getElementById("passkey-sign-in");
  if (signIn) {
    signIn.hidden = !window.PublicKeyCredential;
    signIn.addEventListener("click", async function () {
      var form = document.getElementById("passkey-form");
      var error = document.getElementById("passkey-error");
      try {
        var c = await postJson("/login/passkey/options", { second: signIn.dataset.mode === "second" });
        var cred = await navigator.credentials.get({ publicKey: requestOptions(c.options.publicKey) });
        form.elements.challenge_id.value = c.challenge_id;
        form.elements.credential.value = JSON.stringify(assertion(cred));
        form.submit();
      } catch (e) {
        say(error, "The passkey did not work: " + e.message);
      }
    });
  }

  // /account/passkeys: register a new passkey through the API, with the session's CSRF token.
  var register = document.getElementById("passkey-register");
  if (register) {
    register.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      var error = document.getElementById("passkey-error");
      var csrf = { "X-CSRF-Token": register.dataset.csrf };
      try {
        var c = await postJson("/api/users/me/passkeys/options",
          { current_password: register.elements.current_password.value }, csrf);
        var cred = await navigator.credentials.create({ publicKey: creationOptions(c.options.publicKey) });
        await postJson("/api/users/me/passkeys",
          { challenge_id: c.challenge_id, name: register.elements.name.value, credential: registration(cred) }, csrf);
        window.location.assign("/account/passkeys?added=1");
      } catch (e) {
        say(error, "The passkey was not added: " + e.message);
      }
    });
  }
})();
