// p2m_sync2: two-flop synchronizer of one bit into the clock domain of clk
// (contract: rtl/REGISTERS.md "Clocking and clock-domain crossings"; docs/rtl.md "Clock domains").
//
//   d (asynchronous, or a flop of another clock domain) -> meta -> q
//
// Both flops are on clk and in this module only: the structural CDC check
// (scripts/cdc_check.py, run by `make lint`) recognizes a crossing as synchronized when it
// enters the `meta` flop of a p2m_sync2 directly (no logic in between) and `meta` drives
// nothing but `q`. Only single bits whose every change must be seen may cross here (a level,
// or a toggle that changes at most once per two destination cycles); multi-bit values cross
// in p2m_timer_cdc (handshake, the data held stable). Latency: a change of d sampled at edge A
// is on q after A+1.
`timescale 1ns / 1ps
`default_nettype none

module p2m_sync2 #(
    parameter RESET_VAL = 1'b0        // value of both flops while rst_n is low
) (
    input  wire clk,
    input  wire rst_n,                // asynchronous assert, released synchronously to clk
    input  wire d,
    output wire q
);
    reg meta, sync;

    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            meta <= RESET_VAL;
            sync <= RESET_VAL;
        end else begin
            meta <= d;
            sync <= meta;
        end
    end

    assign q = sync;
endmodule

`default_nettype wire
