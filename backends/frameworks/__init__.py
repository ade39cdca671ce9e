"""Deep-learning frameworks, compilers and runtimes that claim torch's semantics, as backends.

One module per framework; ``shared`` holds what the adapters share (the
gradient path through a framework's own autodiff, argument plumbing).
"""
