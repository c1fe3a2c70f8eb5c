// Admin console: the configuration's intents that start no procedure (`intents` of
// GET/PATCH /v1/agent/config). Edits stay on the page until Save, which sends one merge
// patch with only the changed intents (null for a removed one) and the version read.
document.addEventListener('alpine:init', function () {
  'use strict';
  var Alpine = window.Alpine;
  var api = window.api;

  // The example utterances in a textarea: one per line, blank lines ignored.
  function lines(text) {
    return text.split('\n').map(function (line) { return line.trim(); }).filter(Boolean);
  }

  function same(a, b) {
    return a.length === b.length && a.every(function (value, i) { return value === b[i]; });
  }

  Alpine.data('intentList', function () {
    var counter = 0;
    function row(name, examples, stored) {
      counter += 1;
      return { key: counter, name: name, examples: examples.join('\n'), stored: stored, removed: false };
    }
    return {
      items: [], stored: {}, version: 0, error: '', note: '', loading: true,
      async init() {
        var response = await api.get('/v1/agent/config');
        this.loading = false;
        if (!response.ok) { this.error = response.error; return; }
        this.load(response.data);
        api.followConfig(this);
      },
      load(config) {
        this.stored = config.intents;
        this.version = config.version;
        this.items = Object.keys(config.intents).map(function (name) {
          return row(name, config.intents[name], true);
        });
      },
      add() {
        this.note = '';
        this.items.push(row('', [], false));
        var key = counter;
        this.$nextTick(function () {
          var input = document.getElementById('intent-name-' + key);
          if (input) input.focus();
        });
      },
      toggle(item) {
        this.note = '';
        if (item.stored) { item.removed = !item.removed; return; }
        this.items = this.items.filter(function (other) { return other !== item; });  // never saved
      },
      removeLabel(item) {
        if (!item.stored) return 'Discard new intent' + (item.name.trim() ? ' ' + item.name.trim() : '');
        return (item.removed ? 'Keep intent ' : 'Remove intent ') + item.name;
      },
      // The merge patch of `intents`, or a message saying what to fix first.
      changes() {
        var patch = {};
        var names = {};
        for (var i = 0; i < this.items.length; i++) {
          var item = this.items[i];
          var name = item.name.trim();
          if (item.stored && item.removed) { patch[name] = null; continue; }
          if (!name) return { problem: 'A new intent needs a name: type one, or discard that intent.' };
          if (names[name] || (!item.stored && Object.prototype.hasOwnProperty.call(this.stored, name))) {
            return { problem: "Intent '" + name + "' is listed twice: edit its examples in one place, or give the new intent another name." };
          }
          names[name] = true;
          var examples = lines(item.examples);
          if (!examples.length) {
            return { problem: "Intent '" + name + "' has no examples: add example utterances, one per line." };
          }
          if (!item.stored || !same(examples, this.stored[name])) patch[name] = examples;
        }
        return { patch: patch };
      },
      async save() {
        this.note = ''; this.error = '';
        var changes = this.changes();
        if (changes.problem) { this.error = 'Not saved: ' + changes.problem; return; }
        if (!Object.keys(changes.patch).length) { this.note = 'Nothing to save: no intent changed.'; return; }
        var response = await api.patch('/v1/agent/config', {
          intents: changes.patch,
          version: this.version  // the version this list was read at: a change made since is not overwritten
        });
        if (!response.ok) {
          this.error = 'Not saved: ' + response.error + (response.status === 409 ? ' Reload the page to see the current settings.' : '');
          return;
        }
        this.load(response.data);
        api.configSaved(response.data);
        this.note = 'Saved (configuration version ' + response.data.version + ').';
      }
    };
  });
});
