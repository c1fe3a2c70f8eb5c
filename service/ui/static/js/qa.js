// QA console: the review queue with filters, the golden set, the quality report; and on a
// trace page, the review form (POST /v1/qa/reviews), whose corrected answer joins the
// golden set.
document.addEventListener('alpine:init', function () {
  'use strict';
  var api = window.api;

  window.Alpine.data('queue', function () {
    return {
      entries: [], total: 0, kinds: [], intents: [], scores: ['confidence'], loaded: false, error: '',
      filters: { reason: '', intent: '', score: 'confidence', min: '', max: '', since: '', until: '' },
      when: function (iso) { return api.when(iso); },
      num: function (value) { return api.num(value); },
      async init() { await this.load(); },
      async load() {
        var params = new URLSearchParams();
        var f = this.filters;
        Object.keys(f).forEach(function (name) {
          var value = f[name];
          if (value !== '' && value !== null && value !== undefined) params.set(name, value);
        });
        if (f.min === '' && f.max === '') params.delete('score');
        var response = await api.get('/ui/qa/api/queue?' + params.toString());
        this.loaded = true;
        if (!response.ok) { this.error = response.error; return; }
        this.error = '';
        this.entries = response.data.entries;
        this.total = response.data.total;
        this.kinds = response.data.kinds;
        this.intents = response.data.intents;
        this.scores = response.data.scores;
      },
      clear() {
        this.filters = { reason: '', intent: '', score: 'confidence', min: '', max: '', since: '', until: '' };
        this.load();
      },
      shown() {
        return this.entries.length === this.total ? String(this.total) : this.entries.length + ' of ' + this.total;
      },
      traceUrl(entry) { return '/ui/qa/traces/' + encodeURIComponent(entry.trace_id); },
      scoreList(entry) {
        return Object.keys(entry.scores).map(function (name) {
          return { name: name, text: api.num(entry.scores[name]) };
        });
      }
    };
  });

  window.Alpine.data('golden', function () {
    return {
      cases: [], error: '',
      async init() {
        var response = await api.get('/v1/qa/golden');
        if (response.ok) this.cases = response.data.cases.slice().reverse(); else this.error = response.error;
      }
    };
  });

  window.Alpine.data('report', function () {
    return { open: false, show() { this.open = true; } };
  });

  window.Alpine.data('review', function () {
    return {
      // no verdict is chosen for the lead: a review sent without one is refused here
      traceId: '', verdict: '', labels: [], corrected: '', saved: '', error: '', working: false,
      init() { this.traceId = this.$el.dataset.trace; },
      async submit() {
        this.error = ''; this.saved = '';
        if (!this.verdict) { this.error = 'Not saved: choose a verdict first.'; return; }
        this.working = true;
        var body = { trace_id: this.traceId, verdict: this.verdict, labels: this.labels };
        if (this.corrected.trim()) body.corrected_answer = this.corrected.trim();
        var response = await api.post('/v1/qa/reviews', body);
        this.working = false;
        if (!response.ok) { this.error = 'Not saved: ' + response.error; return; }
        if (!body.corrected_answer) { this.saved = 'Review saved.'; return; }
        // Whether the correction became a golden case depends on the tenant's training-use
        // setting and the end user's choice; the golden set itself says.
        var golden = await api.get('/v1/qa/golden');
        var id = 'correction-' + this.traceId;
        var added = golden.ok && golden.data.cases.some(function (c) { return c.id === id; });
        this.saved = added
          ? 'Review saved. The corrected answer is now in the golden set (case ' + id + ').'
          : 'Review saved. The corrected answer was not added to the golden set: this tenant, or this customer, does not allow conversations to be used for training.';
      }
    };
  });
});
