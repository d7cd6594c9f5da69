// p2m_clk_req: the request for the readout clock `clk` (port clk_req)
// (contract: rtl/REGISTERS.md "Clocking and clock-domain crossings"; docs/rtl.md).
//
//   clk_req = req_q | (win_tgl ^ req_seen)
//
// req_q (a clk flop, 1 in reset) is the readout domain's "work to do at the next edge" as of
// the last edge; (win_tgl ^ req_seen) is a window end that the readout domain has not taken
// over yet (win_tgl from the slow domain, req_seen from p2m_win_sync). The second term
// starts the clock when it is stopped; it falls only at the clk edge after p2m_win_sync
// took the window end, where req_q is already 1, so clk_req has no gap between the two.
// clk_req falls one clk edge after the last edge with work (the clock source completes the
// period and stops; that last edge is an idle one). The port is asynchronous to everything:
// the clock source synchronizes it and starts `clk` after its start-up time without a runt
// pulse. clk_req is 1 while rst_n is low (the reset synchronizer and the power-up global
// reset need clock edges).
`timescale 1ns / 1ps
`default_nettype none

module p2m_clk_req (
    input  wire clk,
    input  wire rst_n,                // synchronized to clk (asserted: req_q = 1)
    input  wire busy,                 // readout domain: something changes at the next edge
    input  wire win_tgl,              // clk_slow domain (p2m_window_timer)
    input  wire req_seen,             // clk domain (p2m_win_sync)
    output wire clk_req
);
    reg req_q;

    always @(posedge clk or negedge rst_n) begin
        if (!rst_n)              req_q <= 1'b1;
        else if (req_q != busy)  req_q <= busy;
    end

    assign clk_req = req_q | (win_tgl ^ req_seen);
endmodule

`default_nettype wire
