"""The nightly close of business (DESIGN §6): lending owns the run; apps register steps."""
