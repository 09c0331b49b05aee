"""The embedded backend: a durable driver that performs what the core asks for in this process.

It calls action and node handlers, records steps, invocations, waits and logs, and persists the run
state after every step, so a process that dies resumes a run from its last finished step. The
due-work loop that resumes timers, retries and runs lives with the services (``services.worker``).
"""
