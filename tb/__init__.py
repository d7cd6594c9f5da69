"""cocotb + pyuvm testbenches of the P2M RTL and the analog bridge."""
