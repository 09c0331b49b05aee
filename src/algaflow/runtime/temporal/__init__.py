"""The Temporal backend (``algaflow[temporal]``): one Temporal workflow per run drives the pure
core; actions run as activities; algaflow's run tables are the read model it projects into."""
