// p2m_rst_sync: reset synchronizer, asynchronous assert and synchronous release
// (contract: rtl/REGISTERS.md "Reset"; docs/rtl.md "Clock domains").
//
// rst_n_out falls with rst_n_in (no clock needed) and rises at the 2nd rising edge of clk
// after rst_n_in rose, so every flop of the domain leaves reset at the same edge whatever
// the phase of the release (rst_n may be released at any time). One instance per clock
// domain (clk, clk_slow). The CDC check recognizes the two flops by this module's name.
`timescale 1ns / 1ps
`default_nettype none

module p2m_rst_sync (
    input  wire clk,
    input  wire rst_n_in,             // asynchronous reset (port rst_n)
    output wire rst_n_out             // reset of the clk domain
);
    reg r1, r2;

    always @(posedge clk or negedge rst_n_in) begin
        if (!rst_n_in) begin
            r1 <= 1'b0;
            r2 <= 1'b0;
        end else begin
            r1 <= 1'b1;
            r2 <= r1;
        end
    end

    assign rst_n_out = r2;
endmodule

`default_nettype wire
