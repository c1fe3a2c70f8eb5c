// Clearline chat widget. A company puts one tag on its page:
//   <script src="https://CLEARLINE_HOST/ui/widget.js" data-token="ONE_TIME_TOKEN" async></script>
// where its backend asked for the token with its end-user key:
//   POST https://CLEARLINE_HOST/ui/links  {"embed": true}  (Authorization: Bearer END_USER_KEY)
// The chat runs in an iframe from Clearline's own origin, so the company's page can read
// neither the conversation nor the session.
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !script.src) return;
  var origin = new URL(script.src).origin;
  var token = script.getAttribute('data-token') || '';
  var label = script.getAttribute('data-label') || 'Chat with us';
  var src = token
    ? origin + '/ui/login?embed=1&token=' + encodeURIComponent(token)
    : origin + '/ui/chat?embed=1';

  function place() {
    var frame = document.createElement('iframe');
    frame.title = 'Customer support chat';
    frame.id = 'clearline-chat-frame';
    frame.hidden = true;
    var fs = frame.style;
    fs.position = 'fixed'; fs.right = '16px'; fs.bottom = '76px'; fs.zIndex = '2147483646';
    fs.width = 'min(400px, calc(100vw - 32px))'; fs.height = 'min(620px, calc(100vh - 100px))';
    fs.border = '1px solid #d1d5db'; fs.borderRadius = '12px'; fs.background = '#fff';
    fs.boxShadow = '0 10px 30px rgba(0,0,0,.2)';

    var button = document.createElement('button');
    button.type = 'button';
    button.id = 'clearline-chat-button';
    button.textContent = label;
    button.setAttribute('aria-expanded', 'false');
    button.setAttribute('aria-controls', frame.id);
    var bs = button.style;
    bs.position = 'fixed'; bs.right = '16px'; bs.bottom = '16px'; bs.zIndex = '2147483647';
    bs.background = '#1d4ed8'; bs.color = '#fff'; bs.border = '0'; bs.borderRadius = '999px';
    bs.padding = '12px 20px'; bs.font = '600 15px system-ui, sans-serif'; bs.cursor = 'pointer';
    bs.boxShadow = '0 4px 12px rgba(0,0,0,.25)';

    button.addEventListener('click', function () {
      if (!frame.getAttribute('src')) frame.setAttribute('src', src);
      frame.hidden = !frame.hidden;
      button.setAttribute('aria-expanded', String(!frame.hidden));
      if (!frame.hidden) frame.focus();
    });
    document.body.appendChild(frame);
    document.body.appendChild(button);
  }

  if (document.body) place();
  else document.addEventListener('DOMContentLoaded', place);
})();
