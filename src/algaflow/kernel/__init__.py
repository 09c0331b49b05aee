"""The kernel: what every other part stands on, and which stands on nothing of algaflow's.

``clock`` (the one place that reads the time and makes ids, per context), ``errors`` (the domain
error type: a stable code, a message, details; never an HTTP status) and ``jsvalues``
(JavaScript value semantics and JSON helpers).
"""
