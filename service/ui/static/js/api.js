// Calls from the consoles to the /v1 API and the consoles' own routes. The browser sends
// the HttpOnly session cookie itself; every call adds the page's CSRF token. No key, no
// token and no conversation id is ever put in localStorage or sessionStorage.
(function () {
  'use strict';

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : '';
  }

  function plain(status, message) {
    if (status === 401) return 'Your session has ended. Sign in again to continue.';
    if (status === 403) return message || 'Your sign-in is not allowed to do this.';
    if (status === 413) return message || 'That upload is too large.';
    if (status === 429) return 'Too many requests right now. Wait a moment and try again.';
    if (status >= 500) return 'Something went wrong on the server. Try again; if it keeps happening, tell your administrator.';
    return message || ('The server answered ' + status + '.');
  }

  function result(status, data) {
    if (status >= 200 && status < 300) return { ok: true, status: status, data: data, error: '' };
    var message = data && data.error && data.error.message ? data.error.message : '';
    return { ok: false, status: status, data: data, error: plain(status, message) };
  }

  async function call(method, path, body, ifMatch) {
    var headers = { 'X-CSRF-Token': csrf(), 'Accept': 'application/json' };
    if (ifMatch !== undefined) headers['If-Match'] = '"' + ifMatch + '"';
    var payload;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    var response;
    try {
      response = await fetch(path, { method: method, headers: headers, body: payload, credentials: 'same-origin' });
    } catch (error) {
      return { ok: false, status: 0, data: null, error: 'The server could not be reached. Check the connection and try again.' };
    }
    var data = null;
    if ((response.headers.get('content-type') || '').indexOf('application/json') !== -1) {
      try { data = await response.json(); } catch (error) { data = null; }
    }
    return result(response.status, data);
  }

  // Multipart upload with byte progress (fetch cannot report upload progress).
  function upload(path, files, onProgress) {
    return new Promise(function (resolve) {
      var form = new FormData();
      files.forEach(function (file) { form.append('files', file, file.name); });
      var xhr = new XMLHttpRequest();
      xhr.open('POST', path);
      xhr.setRequestHeader('X-CSRF-Token', csrf());
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.upload.onprogress = function (event) {
        if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
      };
      xhr.onload = function () {
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (error) { data = null; }
        resolve(result(xhr.status, data));
      };
      xhr.onerror = function () {
        resolve({ ok: false, status: 0, data: null, error: 'The upload could not reach the server. Check the connection and try again.' });
      };
      xhr.send(form);
    });
  }

  function when(iso) {
    if (!iso) return '';
    var date = new Date(iso);
    return isNaN(date) ? String(iso) : date.toLocaleString();
  }

  function num(value, digits) {
    return typeof value === 'number' ? value.toFixed(digits === undefined ? 2 : digits) : '–';
  }

  // Cards that each edit part of the agent configuration (PATCH /v1/agent/config with the
  // version they read): `saved` tells the others of a save; `followConfig` keeps a card's
  // version current when nothing else changed in between (else its Save gets a 409).
  function configSaved(config) {
    window.dispatchEvent(new CustomEvent('agent-config-saved', { detail: config }));
  }

  function followConfig(card) {
    window.addEventListener('agent-config-saved', function (event) {
      if (event.detail.version === card.version + 1) card.version = event.detail.version;
    });
  }

  window.api = {
    csrf: csrf,
    get: function (path) { return call('GET', path); },
    post: function (path, body) { return call('POST', path, body === undefined ? {} : body); },
    put: function (path, body) { return call('PUT', path, body); },
    patch: function (path, body) { return call('PATCH', path, body); },
    del: function (path, version) { return call('DELETE', path, undefined, version); },
    upload: upload,
    configSaved: configSaved,
    followConfig: followConfig,
    when: when,
    num: num
  };
})();
