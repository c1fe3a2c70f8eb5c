// Admin console: AI feature switches, autonomy and thresholds, procedures (YAML, with the
// validation error shown next to its line) and the tenant's keys.
document.addEventListener('alpine:init', function () {
  'use strict';
  var Alpine = window.Alpine;
  var api = window.api;

  Alpine.data('features', function () {
    return {
      items: [], error: '',
      async init() {
        var response = await api.get('/v1/features');
        if (response.ok) this.items = response.data; else this.error = response.error;
      },
      async toggle(feature, enabled) {
        var response = await api.put('/v1/features/' + encodeURIComponent(feature.name), { enabled: enabled });
        if (response.ok) { this.items = response.data; this.error = ''; return; }
        this.error = 'Could not switch ' + feature.name + ': ' + response.error;
        feature.enabled = !enabled;
        this.items = this.items.slice();
      }
    };
  });

  // Read-only AI hub (GET /v1/ai/features); display strings are built here (CSP build).
  Alpine.data('aiHub', function () {
    return {
      items: [], error: '',
      async init() {
        var response = await api.get('/v1/ai/features');
        if (!response.ok) { this.error = response.error; return; }
        this.items = response.data.map(function (f) {
          var change = f.last_change;
          return Object.assign({}, f, {
            state: !f.enabled ? 'off' : (f.active ? 'on' : 'on (no chat model: not running)'),
            modelsText: f.models.length ? f.models.join('; ') : 'none',
            dataText: f.data.join('; '),
            changeText: change ? (change.enabled ? 'on' : 'off') + ' at ' + change.at + ' by ' + change.by : 'never switched'
          });
        });
      }
    };
  });

  Alpine.data('behaviour', function () {
    return {
      autonomy: 'autonomous', intents: '', thresholds: { answer: 0, clarify: 0, intent: 0, switch: 0, support: 0 },
      version: 0, error: '', note: '',
      async init() {
        var response = await api.get('/v1/agent/config');
        if (!response.ok) { this.error = response.error; return; }
        this.autonomy = response.data.autonomy;
        this.intents = response.data.autonomous_intents.join(', ');
        this.thresholds = response.data.thresholds;
        this.version = response.data.version;
        api.followConfig(this);
      },
      async save() {
        this.note = ''; this.error = '';
        var intents = this.intents.split(',').map(function (s) { return s.trim(); }).filter(Boolean);
        var thresholds = {};  // a field left empty puts its threshold back to the default
        for (var name in this.thresholds) {
          thresholds[name] = this.thresholds[name] === '' ? null : this.thresholds[name];
        }
        var response = await api.patch('/v1/agent/config', {
          autonomy: this.autonomy, autonomous_intents: intents, thresholds: thresholds,
          version: this.version  // the version this form was read at: a change made since is not overwritten
        });
        if (response.ok) {
          this.version = response.data.version;
          this.thresholds = response.data.thresholds;  // an emptied field shows its default
          api.configSaved(response.data);
          this.note = 'Saved (configuration version ' + response.data.version + ').';
        } else {
          this.error = 'Not saved: ' + response.error + (response.status === 409 ? ' Reload the page to see the current settings.' : '');
        }
      }
    };
  });

  function escapeRegExp(text) { return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); }

  // The line of `source` that an error message of the procedure loader is about.
  function locate(source, message) {
    var lines = source.split('\n');
    var found = /line (\d+)/.exec(message);
    if (found) return Math.min(parseInt(found[1], 10), lines.length);
    var ids = [];
    var re = /(?:step|id) '([^']+)'/g;
    var m;
    while ((m = re.exec(message)) !== null) ids.push(m[1]);
    for (var i = 0; i < ids.length; i++) {
      var idLine = new RegExp('^\\s*-?\\s*id:\\s*["\']?' + escapeRegExp(ids[i]) + '["\']?\\s*$');
      var at = lines.findIndex(function (l) { return idLine.test(l); });
      if (at < 0) continue;
      var field = /\)\.([A-Za-z_]+)/.exec(message) || /' (url|body|prompt|reply|say|when|goto|next|validate)\b/.exec(message);
      if (field) {
        var fieldLine = new RegExp('^\\s*-?\\s*\\{?\\s*' + escapeRegExp(field[1]) + '\\s*:');
        for (var j = at + 1; j < lines.length && !/^\s*-\s*id:/.test(lines[j]); j++) {
          if (fieldLine.test(lines[j])) return j + 1;
        }
      }
      return at + 1;
    }
    var key = /': ([A-Za-z_]+)(?:\[\d+\])?[.:]/.exec(message);
    if (key) {
      var keyLine = new RegExp('^' + escapeRegExp(key[1]) + '\\s*:');
      var k = lines.findIndex(function (l) { return keyLine.test(l); });
      if (k >= 0) return k + 1;
    }
    return 0;
  }
  window.locateProcedureError = locate;

  var SKELETON = [
    'id: my-procedure', 'title: What this procedure does', 'intents: [my_intent]', 'examples:',
    '  - an example of what a customer says', '  - another way to say it', 'steps:',
    '  - id: answer', '    reply: "The reply the customer gets."', ''
  ].join('\n');

  Alpine.data('procedures', function () {
    return {
      items: [], selected: '', source: '', error: '', errorLine: 0, note: '',
      async init() { await this.refresh(); if (this.items.length) { this.selected = this.items[0].id; this.choose(); } },
      async refresh() {
        var response = await api.get('/v1/procedures');
        if (response.ok) this.items = response.data; else this.error = response.error;
      },
      choose() {
        var chosen = this.items.find(function (p) { return p.id === this.selected; }, this);
        this.source = chosen ? chosen.source : SKELETON;
        this.error = ''; this.errorLine = 0; this.note = '';
      },
      fresh() { this.selected = ''; this.choose(); },
      gutter() {
        var count = this.source.split('\n').length;
        var out = [];
        for (var i = 1; i <= count; i++) out.push(i);
        return out.join('\n');
      },
      sync(event) { this.$refs.gutter.scrollTop = event.target.scrollTop; },
      listing() {
        var lines = this.source.split('\n');
        var line = this.errorLine;
        var from = Math.max(1, line - 3);
        var to = Math.min(lines.length, line + 3);
        var out = [];
        for (var n = from; n <= to; n++) out.push({ key: n, n: n, text: lines[n - 1], err: n === line });
        return out;
      },
      version() {
        var chosen = this.items.find(function (p) { return p.id === this.selected; }, this);
        return chosen ? chosen.version : 0;  // 0: a new procedure
      },
      async save() {
        this.note = ''; this.error = ''; this.errorLine = 0;
        var response = await api.put('/v1/procedures', { source: this.source, version: this.version() });
        if (!response.ok) {
          this.error = response.error;
          this.errorLine = response.status === 400 ? locate(this.source, response.error) : 0;
          return;
        }
        this.note = 'Saved procedure ' + response.data.id + '.';
        await this.refresh();
        this.selected = response.data.id;
      },
      async remove() {
        if (!this.selected || !window.confirm('Delete procedure ' + this.selected + '?')) return;
        var response = await api.del('/v1/procedures/' + encodeURIComponent(this.selected), this.version());
        if (!response.ok) { this.error = response.error; return; }
        this.note = 'Deleted ' + this.selected + '.';
        await this.refresh();
        this.selected = this.items.length ? this.items[0].id : '';
        this.choose();
      }
    };
  });

  Alpine.data('keys', function () {
    return {
      items: [], role: 'end_user', label: '', secret: '', error: '',
      when: function (iso) { return api.when(iso); },
      async init() { await this.refresh(); },
      async refresh() {
        var response = await api.get('/ui/admin/api/keys');
        if (response.ok) this.items = response.data; else this.error = response.error;
      },
      async create() {
        this.secret = ''; this.error = '';
        var response = await api.post('/ui/admin/api/keys', { role: this.role, label: this.label.trim() });
        if (!response.ok) { this.error = 'No key made: ' + response.error; return; }
        this.secret = response.data.secret;
        this.label = '';
        await this.refresh();
      },
      async revoke(key) {
        if (!window.confirm('Revoke key ' + key.id + ' (' + key.role + ')? Whoever uses it is signed out.')) return;
        var response = await api.post('/ui/admin/api/keys/' + encodeURIComponent(key.id) + '/revoke', {});
        if (!response.ok) { this.error = response.error; return; }
        await this.refresh();
      }
    };
  });
});
