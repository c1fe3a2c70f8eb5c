// Admin console: knowledge sources. Uploads (drag and drop or the file picker, several
// files at once) go to POST /v1/knowledge/sources, with the audience the admin chose;
// each becomes a job whose progress and per-file results are polled from GET /v1/jobs/{id}
// and shown in plain words. The list shows who each source is written for, and each source's
// button states the other audience (PATCH /v1/knowledge/sources/{id}) without an upload.
document.addEventListener('alpine:init', function () {
  'use strict';
  var POLL_MS = 600;
  var RESULT_WORDS = {
    ingested: 'added',
    replaced: 'updated (the new version replaces the old one)',
    unchanged: 'already up to date, nothing changed'
  };
  var AUDIENCE_WORDS = { agent: 'Agents', customer: 'Customers' };
  var STATUS_WORDS = {
    uploading: 'Uploading', rejected: 'Not accepted', queued: 'Waiting', running: 'Reading files',
    succeeded: 'Done', partial: 'Done, with problems', failed: 'Failed'
  };

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  window.Alpine.data('sources', function () {
    return {
      sources: [],
      jobs: [],
      over: false,
      error: '',
      loading: true,
      nextKey: 1,
      audience: '',  // '' lets Clearline decide; 'agent' or 'customer' states it

      async init() { await this.refresh(); },

      when: function (iso) { return window.api.when(iso); },

      async refresh() {
        var response = await window.api.get('/v1/knowledge/sources');
        this.loading = false;
        if (response.ok) { this.sources = response.data.sources; this.error = ''; }
        else { this.error = response.error; }
      },

      pick() { this.$refs.files.click(); },
      picked(event) {
        var files = Array.prototype.slice.call(event.target.files || []);
        event.target.value = '';
        this.upload(files);
      },
      dragover() { this.over = true; },
      dragleave() { this.over = false; },
      drop(event) {
        this.over = false;
        var files = Array.prototype.slice.call((event.dataTransfer && event.dataTransfer.files) || []);
        this.upload(files);
      },

      async upload(files) {
        if (!files.length) return;
        this.jobs.unshift({
          key: this.nextKey++, id: null, names: files.map(function (f) { return f.name; }),
          phase: 'uploading', sent: 0, status: 'uploading', total: files.length, done: 0,
          progress: 0, results: [], error: ''
        });
        var job = this.jobs[0];  // the reactive copy
        var path = '/v1/knowledge/sources' + (this.audience ? '?audience=' + encodeURIComponent(this.audience) : '');
        var response = await window.api.upload(path, files, function (share) { job.sent = share; });
        if (!response.ok) {
          job.status = 'rejected';
          job.phase = 'done';
          job.error = 'The upload was not accepted: ' + response.error;
          return;
        }
        job.id = response.data.id;
        job.phase = 'processing';
        this.apply(job, response.data);
        while (job.status === 'queued' || job.status === 'running') {
          await sleep(POLL_MS);
          var poll = await window.api.get('/v1/jobs/' + encodeURIComponent(job.id));
          if (!poll.ok) { job.error = 'Could not read the job\'s progress: ' + poll.error; break; }
          this.apply(job, poll.data);
        }
        job.phase = 'done';
        await this.refresh();
      },

      apply(job, data) {
        job.status = data.status;
        job.total = data.total;
        job.done = data.done;
        job.progress = data.progress;
        job.results = data.results;
        job.error = data.error ? 'The job stopped: ' + data.error : '';
      },

      jobTitle(job) {
        return job.names.length === 1 ? job.names[0] : job.names.length + ' files: ' + job.names.join(', ');
      },
      audienceText(source) {
        if (!source.audience) return 'Not recorded (use the button to state it)';
        return AUDIENCE_WORDS[source.audience] + (source.audience_stated ? ' (set by you)' : ' (detected)');
      },
      statusWord(job) { return STATUS_WORDS[job.status] || job.status; },
      badge(job) {
        if (job.status === 'succeeded') return 'ok';
        if (job.status === 'failed' || job.status === 'rejected' || job.status === 'partial') return 'bad';
        return 'info';
      },
      progressText(job) {
        if (job.phase === 'uploading') return 'Uploading… ' + Math.round(job.sent * 100) + '%';
        if (job.status === 'rejected') return 'Nothing was stored.';
        if (!job.total) return job.status === 'queued' ? 'Waiting to start…' : 'Preparing…';
        return job.done + ' of ' + job.total + ' files read (' + Math.round(job.progress * 100) + '%)';
      },
      resultText(r) {
        if (r.status === 'failed') return 'could not be added. ' + (r.error || 'No reason was given.');
        var words = RESULT_WORDS[r.status] || r.status;
        return words + ' (' + r.chunks + ' passage' + (r.chunks === 1 ? '' : 's') + ')';
      },

      restateLabel(source) {
        return source.audience === 'agent' ? 'Mark as for customers' : 'Mark as for agents';
      },
      async restate(source) {
        var audience = source.audience === 'agent' ? 'customer' : 'agent';
        var response = await window.api.patch(
          '/v1/knowledge/sources/' + encodeURIComponent(source.document_id), { audience: audience });
        if (!response.ok) { this.error = 'Could not change who it is written for: ' + response.error; return; }
        await this.refresh();
      },

      async remove(source) {
        if (!window.confirm('Delete "' + source.title + '" from the knowledge base? The agent stops using it at once.')) return;
        var response = await window.api.del('/v1/knowledge/sources/' + encodeURIComponent(source.document_id));
        if (!response.ok) { this.error = 'Could not delete it: ' + response.error; return; }
        await this.refresh();
      }
    };
  });
});
