`timescale 1ns / 1ps

// p2m_clk_gate: glitch-free OR-type clock gate for the event-driven part of the periphery.
//
//   gclk = clk | ~en_q     (ENABLE = 1),      gclk = clk     (ENABLE = 0)
//
// en_q must come from a flop clocked on the rising edge of clk (here: the window timer's
// gate flop, which shares the timer's process so that an idle cycle costs the simulator
// one process wake-up). en_q therefore changes only while clk is high, where gclk is 1
// whatever en_q is: no runt pulse. gclk has a rising edge at clk edge P+1 exactly when
// en_q = 1 after edge P; while disabled gclk stays high. An ASIC flow swaps this for its
// library clock-gating cell, an FPGA flow for a clock buffer with enable, or sets
// p2m_top's CLK_GATE = 0 (the same cycle behaviour, every edge delivered).
module p2m_clk_gate #(
    parameter ENABLE = 1
) (
    input  wire clk,
    input  wire en_q,                 // registered enable for the next rising edge
    output wire gclk
);
    generate
        if (ENABLE != 0) begin : g_gate
            assign gclk = clk | ~en_q;
        end else begin : g_nogate
            assign gclk = clk;
            wire _unused_ok = &{1'b0, en_q, 1'b0};
        end
    endgenerate
endmodule
