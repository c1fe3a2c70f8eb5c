"""The understand step: what one message says about the end user's need, without a
generative model. `detect.detect_all` runs the detectors the tenant's configuration allows:
intent (`intents`, fitted on the tenant's examples), sentiment (`sentiment`), language
(`language`), an explicit request for a human (`human_request`) and prompt-injection
screening (`screening`); each answers a `records.Prediction` with a confidence. Word lists
and the injection rule table are YAML files beside the modules, read once.
"""
