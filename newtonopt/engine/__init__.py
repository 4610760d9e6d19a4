"""The run loop's jobs, each in its own module; :mod:`newtonopt.simulate` composes them.

start (x0 checked and laid out), recording (the policy, in memory or streamed), stopping (each
particle's events), interrupt (Ctrl-C between steps), resume (what a Trajectory must hold to be
continued), diagnosis (the status messages, why a run diverged).
"""
