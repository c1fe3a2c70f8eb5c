// The human agent's inbox: drafts waiting for approval and conversations handed to a
// person, refreshed every few seconds (new ones are marked and announced). A draft shows
// exactly what approving it will do before the agent decides.
document.addEventListener('alpine:init', function () {
  'use strict';
  var api = window.api;
  var POLL_MS = 2000;
  var WHO = { user: 'Customer', assistant: 'AI agent', human_agent: 'Support team' };

  window.Alpine.data('inbox', function () {
    return {
      drafts: [], handoffs: [], seen: {}, loaded: false, announce: '', error: '', note: '',
      kind: '', openId: '', conversationId: '', summary: '', history: [], effect: null,
      original: '', editText: '', replyText: '', working: false,

      async init() {
        await this.refresh();
        var self = this;
        setInterval(function () { if (!document.hidden) self.refresh(); }, POLL_MS);
      },

      when: function (iso) { return api.when(iso); },
      isOpen(kind, id) { return this.kind === kind && this.openId === id; },
      who(m) {
        var label = WHO[m.role] || m.role;
        if (m.draft_status === 'pending') label += ' · draft, not sent yet';
        return label;
      },
      title() {
        if (this.kind === 'draft') return 'Draft waiting for approval';
        if (this.kind === 'handoff') return 'Conversation with the customer';
        return 'Nothing open';
      },

      mark(items, key) {
        var fresh = 0;
        var seen = this.seen;
        var loaded = this.loaded;
        items.forEach(function (item) {
          var id = key + ':' + item[key];
          item.fresh = loaded && !seen[id];
          if (item.fresh) fresh++;
          seen[id] = true;
        });
        return fresh;
      },

      async refresh() {
        var drafts = await api.get('/v1/drafts');
        var handoffs = await api.get('/v1/handoffs');
        if (!drafts.ok || !handoffs.ok) { this.error = drafts.error || handoffs.error; return; }
        this.error = '';
        var previous = {};
        this.drafts.concat(this.handoffs).forEach(function (i) { if (i.fresh) previous[i.message_id || i.conversation_id] = true; });
        var fresh = this.mark(drafts.data, 'message_id') + this.mark(handoffs.data, 'conversation_id');
        drafts.data.concat(handoffs.data).forEach(function (i) {
          if (previous[i.message_id || i.conversation_id]) i.fresh = true;
        });
        this.drafts = drafts.data;
        this.handoffs = handoffs.data;
        if (fresh) this.announce = fresh + ' new item' + (fresh === 1 ? '' : 's') + ' in the inbox.';
        this.loaded = true;
      },

      async loadHistory() {
        var response = await api.get('/v1/conversations/' + encodeURIComponent(this.conversationId));
        if (response.ok) this.history = response.data.messages; else this.error = response.error;
      },

      async openDraft(draft) {
        draft.fresh = false;
        this.kind = 'draft'; this.openId = draft.message_id; this.conversationId = draft.conversation_id;
        this.effect = null; this.note = ''; this.summary = '';
        this.original = draft.text; this.editText = draft.text;
        await this.loadHistory();
        var response = await api.get('/ui/inbox/api/drafts/' + encodeURIComponent(draft.message_id) + '/effect');
        if (response.ok) this.effect = response.data; else this.error = response.error;
      },

      async openHandoff(handoff) {
        handoff.fresh = false;
        this.kind = 'handoff'; this.openId = handoff.conversation_id; this.conversationId = handoff.conversation_id;
        this.effect = null; this.note = ''; this.summary = handoff.summary; this.replyText = '';
        await this.loadHistory();
      },

      edited() { return this.editText.trim() !== this.original.trim(); },

      actionText() {
        var a = this.effect && this.effect.action;
        if (!a) return '';
        return a.method + ' ' + a.url + '\n' + JSON.stringify(a.body, null, 2);
      },

      async review(approve) {
        this.working = true; this.error = '';
        var body = { approve: approve };
        if (approve && this.edited()) body.text = this.editText.trim();
        var response = await api.post('/v1/drafts/' + encodeURIComponent(this.openId) + '/review', body);
        this.working = false;
        if (!response.ok) { this.error = 'Not done: ' + response.error; return; }
        this.note = approve ? 'Approved. The customer now sees: ' + response.data.text : 'Rejected. The conversation is now with a person (see Handed to a person).';
        this.kind = ''; this.openId = ''; this.effect = null;
        await this.refresh();
      },

      async reply() {
        var text = this.replyText.trim();
        if (!text) return;
        this.working = true;
        var response = await api.post('/v1/conversations/' + encodeURIComponent(this.conversationId) + '/replies', { text: text });
        this.working = false;
        if (!response.ok) { this.error = 'Not sent: ' + response.error; return; }
        this.replyText = '';
        this.note = 'Reply sent.';
        await this.loadHistory();
      },

      async setStatus(status) {
        this.working = true;
        var response = await api.post('/v1/conversations/' + encodeURIComponent(this.conversationId) + '/status', { status: status });
        this.working = false;
        if (!response.ok) { this.error = response.error; return; }
        this.note = status === 'open' ? 'Handed back to the AI agent.' : 'Conversation closed.';
        this.kind = ''; this.openId = '';
        await this.refresh();
      }
    };
  });
});
