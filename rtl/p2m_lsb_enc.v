`timescale 1ns / 1ps
`default_nettype none

// p2m_lsb_enc: lowest-set-bit priority encoder (combinational; docs/rtl.md "AER readout,
// arbitration and throughput").
//
//   onehot = v & -v        (the lowest set bit of v alone; 0 when v = 0)
//   idx[k] = OR of onehot over the bit positions b whose bit k is 1
//
// so idx is the position of the lowest set bit (0 when v = 0). Used on one row of flags
// (W = OUT_W) and on the row summaries (W = OUT_H): narrow vector operations, no loop, so
// an event-driven simulator evaluates it cheaply, once per change of v. Synthesis: an
// incrementer (carry chain) plus IW OR trees.
module p2m_lsb_enc #(
    parameter W  = 16,                // input width
    parameter IW = 4                  // index width, 2**IW >= W
) (
    input  wire [W-1:0]  v,
    output wire [W-1:0]  onehot,
    output wire [IW-1:0] idx
);
    function [W-1:0] index_mask;      // bit b set when bit k of b is 1
        input integer k;
        integer b;
        begin
            for (b = 0; b < W; b = b + 1)
                index_mask[b] = ((b >> k) & 1) == 1;
        end
    endfunction

    assign onehot = v & (~v + {{(W-1){1'b0}}, 1'b1});

    genvar k;
    generate
        for (k = 0; k < IW; k = k + 1) begin : g_idx
            localparam [W-1:0] M = index_mask(k);
            assign idx[k] = |(onehot & M);
        end
    endgenerate
endmodule

`default_nettype wire
