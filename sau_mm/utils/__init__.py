"""Small helpers with no MMPretrain component in them."""
