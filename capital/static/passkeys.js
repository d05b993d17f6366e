// Passkeys, as progressive enhancement: this script only talks to navigator.credentials. Without it
// (or in a browser without passkeys) the pages keep their other way: a code from the authenticator app.
//
// A form marked data-passkey="create" or "get" carries the server's options as JSON
// (data-passkey-options); its button marked data-passkey-button runs the ceremony, puts the browser's
// answer (or the error's name) in the form's hidden "credential" field and sends the form: the server
// checks the answer and shows any error in the page's error summary.
(function () {
  "use strict";

  function toBytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) {
      base64 += "=";
    }
    var text = atob(base64);
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) {
      bytes[i] = text.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var text = "";
    for (var i = 0; i < bytes.length; i++) {
      text += String.fromCharCode(bytes[i]);
    }
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withBytes(descriptors) {
    return (descriptors || []).map(function (descriptor) {
      return Object.assign({}, descriptor, {id: toBytes(descriptor.id)});
    });
  }

  function creationOptions(options) {
    return Object.assign({}, options, {
      challenge: toBytes(options.challenge),
      user: Object.assign({}, options.user, {id: toBytes(options.user.id)}),
      excludeCredentials: withBytes(options.excludeCredentials)
    });
  }

  function requestOptions(options) {
    return Object.assign({}, options, {
      challenge: toBytes(options.challenge),
      allowCredentials: withBytes(options.allowCredentials)
    });
  }

  // The answer as py_webauthn reads it (what PublicKeyCredential.toJSON() gives in newer browsers).
  function answer(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: {clientDataJSON: toBase64url(response.clientDataJSON)}
    };
    if (credential.authenticatorAttachment) {
      json.authenticatorAttachment = credential.authenticatorAttachment;
    }
    if (response.attestationObject) {
      json.response.attestationObject = toBase64url(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toBase64url(response.authenticatorData);
      json.response.signature = toBase64url(response.signature);
      if (response.userHandle) {
        json.response.userHandle = toBase64url(response.userHandle);
      }
    }
    return json;
  }

  function run(form) {
    var options = JSON.parse(form.getAttribute("data-passkey-options"));
    var field = form.querySelector("input[name=credential]");
    var ceremony = form.getAttribute("data-passkey") === "create"
      ? navigator.credentials.create({publicKey: creationOptions(options)})
      : navigator.credentials.get({publicKey: requestOptions(options)});
    ceremony.then(function (credential) {
      field.value = JSON.stringify(answer(credential));
    }, function (error) {
      field.value = JSON.stringify({error: error && error.name ? error.name : "Error"});
    }).then(function () {
      // The form's own "submit" button shadows form.submit: call the method itself.
      HTMLFormElement.prototype.submit.call(form);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.PublicKeyCredential || !navigator.credentials) {
      return;  // the data-passkey-missing notes stay; the passkey buttons stay hidden
    }
    document.querySelectorAll("[data-passkey-only]").forEach(function (element) {
      element.hidden = false;
    });
    document.querySelectorAll("[data-passkey-missing]").forEach(function (element) {
      element.hidden = true;
    });
    document.querySelectorAll("[data-passkey-button]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        var form = button.form;
        var name = form.querySelector("input[name=name]");
        if (name && !name.value.trim()) {
          return;  // let the server say the name is missing before a passkey is made
        }
        event.preventDefault();
        button.disabled = true;
        run(form);
      });
    });
  });
})();
