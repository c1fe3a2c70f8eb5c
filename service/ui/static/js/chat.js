// The end user's chat. Messages are sent one at a time from a queue, so replies come back
// in the order the messages were typed even when the network is slow. The conversation
// lives in the server-side session; the page only knows what it displays. All text is
// shown with x-text (textContent), never as HTML.
document.addEventListener('alpine:init', function () {
  'use strict';
  var HUMAN_REQUEST = "I'd like to talk to a human, please.";
  var POLL_MS = 2500;
  // Each reply's rating saves leave one after another (the next when the previous reply is
  // back): a rating and a comment made quickly reach the server in the order they were
  // made, so the rating alone, answered late, cannot erase the comment nor its status.
  var ratingSaves = {};

  window.Alpine.data('chat', function () {
    return {
      messages: [],
      queue: [],
      draft: '',
      disclosure: '',
      privacyNotice: '',
      error: '',
      busy: false,
      ready: false,
      serverIds: '',
      nextKey: 1,

      async init() {
        var response = await window.api.get('/ui/chat/api/conversation');
        if (response.ok && response.data.conversation) {
          this.privacyNotice = response.data.privacy_notice;
          this.load(response.data.conversation);
        } else if (response.ok) {
          await this.start();
        } else {
          this.error = response.error;
        }
        this.ready = true;
        var self = this;
        this.$nextTick(function () { self.$refs.input.focus(); });
        setInterval(function () { self.poll(); }, POLL_MS);
      },

      async start() {
        var response = await window.api.post('/ui/chat/api/start', {});
        if (!response.ok) { this.error = response.error; return; }
        this.disclosure = response.data.disclosure;
        this.privacyNotice = response.data.privacy_notice;
        this.messages = [];
        this.serverIds = '';
      },

      async restart() {
        if (this.busy || this.queue.length) return;
        await this.start();
        this.$refs.input.focus();
      },

      view(message) {
        return {
          key: message.id, id: message.id, role: message.role, text: message.text,
          decision: message.decision, citations: message.citations || [],
          status: 'sent', error: '', rating: message.rating || null,
          comment: '', commentOpen: false, rateNote: '', saves: 0, sentComment: null
        };
      },

      load(conversation) {
        var previous = {};
        this.messages.forEach(function (m) { if (m.id) previous[m.id] = m; });
        this.disclosure = conversation.disclosure;
        var self = this;
        var failed = this.messages.filter(function (m) { return m.status === 'failed'; });
        this.messages = conversation.messages.map(function (message) {
          var old = previous[message.id];
          return old ? Object.assign(old, { text: message.text, decision: message.decision }) : self.view(message);
        }).concat(failed);
        this.serverIds = conversation.messages.map(function (m) { return m.id; }).join(',');
      },

      async poll() {
        if (!this.ready || this.busy || this.queue.length || document.hidden) return;
        var response = await window.api.get('/ui/chat/api/conversation');
        if (!response.ok || !response.data.conversation || this.busy || this.queue.length) return;
        var conversation = response.data.conversation;
        var ids = conversation.messages.map(function (m) { return m.id; }).join(',');
        if (ids !== this.serverIds) this.load(conversation);
      },

      classes(m) {
        var notice = m.role === 'assistant' && (m.decision === 'draft' || m.decision === 'handoff');
        return 'msg msg-' + m.role + (notice ? ' notice' : '');
      },

      rateable(m) {
        return m.role === 'assistant' && !!m.id && m.decision !== 'draft' && m.decision !== 'handoff';
      },

      send() {
        var text = this.draft.trim();
        if (!text) return;
        this.draft = '';
        this.enqueue(text);
      },

      askHuman() { this.enqueue(HUMAN_REQUEST); },

      enqueue(text) {
        var item = { key: 'local-' + this.nextKey++, id: null, role: 'user', text: text, decision: null,
                     citations: [], status: 'queued', error: '', rating: null, comment: '',
                     commentOpen: false, rateNote: '', saves: 0, sentComment: null };
        this.messages.push(item);
        this.queue.push(item);
        this.pump();
      },

      retry(item) {
        item.status = 'queued';
        item.error = '';
        this.queue.push(item);
        this.pump();
      },

      async pump() {
        if (this.busy) return;
        this.busy = true;
        while (this.queue.length) {
          var item = this.queue.shift();
          item.status = 'sending';
          var response = await window.api.post('/ui/chat/api/messages', { text: item.text });
          if (!response.ok) {
            item.status = 'failed';
            item.error = 'Not sent: ' + response.error;
            continue;
          }
          item.status = 'sent';
          var reply = this.view({
            id: response.data.message_id, role: 'assistant', text: response.data.text,
            decision: response.data.decision, citations: response.data.citations
          });
          if (response.data.disclosure) this.disclosure = response.data.disclosure;
          var at = this.messages.indexOf(item);
          this.messages.splice(at + 1, 0, reply);
        }
        this.busy = false;
      },

      async rate(m, rating) {
        m.rating = rating;
        m.commentOpen = true;
        // The comment sent from this page goes with the new rating (the API would keep a
        // stored comment anyway: only a request that sends `comment` changes it).
        await this.saveRating(m, m.sentComment, 'Thanks for your feedback.');
      },

      async sendComment(m) {
        var comment = m.comment.trim() || null;
        m.sentComment = comment;
        if (comment) m.rateNote = 'Sending your comment…';
        var thanks = comment ? 'Thanks, your comment was sent.' : 'Thanks for your feedback.';
        if (await this.saveRating(m, comment, thanks)) m.commentOpen = false;
      },

      // Queue a save of the rating as it is now (and the comment, if any) behind the reply's
      // earlier saves; the status is set by the latest one. Resolves to whether it was saved.
      saveRating(m, comment, thanks) {
        var body = { rating: m.rating };
        if (comment) body.comment = comment;
        var path = '/ui/chat/api/ratings/' + encodeURIComponent(m.id);
        var post = function () { return window.api.post(path, body); };
        var saved = (ratingSaves[m.id] || Promise.resolve()).then(post, post);
        ratingSaves[m.id] = saved;
        var turn = ++m.saves;
        return saved.then(function (response) {
          if (ratingSaves[m.id] === saved) delete ratingSaves[m.id];
          if (turn === m.saves) {
            m.error = response.ok ? '' : response.error;
            m.rateNote = response.ok ? thanks : response.error;
          }
          return response.ok;
        });
      }
    };
  });
});
