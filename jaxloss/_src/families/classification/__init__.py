"""The classification family: softmax cross-entropy and NLL, and the linear (fused-projection) cross-entropy.

``cross_entropy`` holds the dense kernels; ``linear_cross_entropy`` (XLA, chunked) and
``linear_cross_entropy_pallas`` (the Pallas kernel) reuse them. The modules import only each other and core.
"""
