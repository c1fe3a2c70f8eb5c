"""Admin-defined procedures (password reset, order status...): the typed model of a
procedure file (`model`), loading and checking the YAML files (`load`), the small template
and condition language (`language`), the runner that advances a procedure one turn at a time
(`runner`), the tenant's connections to its company systems (`connections`), the HTTP
actions it calls through them (`actions`), and masking of personal values and secrets in
what a procedure turn records for the trace (`trace_masking`).
"""
