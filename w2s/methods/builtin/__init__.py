"""Built-in W2S methods, one module each, all following the contract in ``w2s.methods``."""
