// p2m_window_timer: the integration time base, in the always-on slow clock domain
// (contract: rtl/REGISTERS.md "Timing"; architecture: docs/rtl.md "Clock domains").
//
// A prescaler divides clk_slow by tick_div into one tick (one microsecond with the nominal
// 1 MHz clk_slow and TICK_DIV = 1); the window counter counts window_len ticks. Both run
// only while en = 1 and are zeroed while en = 0 and at a restart (a CTRL.EN 0 -> 1 write,
// carried by p2m_timer_cdc). Windows stay on a fixed grid: the readout never stretches them.
// With S0 the clk_slow edge at which en = 1 arrives from the CDC with restart, window k
// (k = 1, 2, ...) ends at clk_slow edge S0 + k * tick_div * window_len, where win_tgl
// toggles. The fast domain (p2m_win_sync) synchronizes win_tgl, samples the comparators and
// counts a late window end as an overrun.
//
// Cost: one process woken per clk_slow edge; one 16-bit compare and increment per cycle;
// the 24-bit window counter moves once per tick.
`timescale 1ns / 1ps
`default_nettype none

module p2m_window_timer (
    input  wire        clk_slow,
    input  wire        rst_n,         // synchronized to clk_slow (p2m_rst_sync)
    input  wire        en,            // CTRL.EN (slow-domain copy)
    input  wire        restart,       // one clk_slow cycle: zero the counters (EN was set)
    input  wire [15:0] tick_div,      // clk_slow cycles per tick (>= 1, the CSR guarantees it)
    input  wire [23:0] window_len,    // ticks per window (>= 1, the CSR guarantees it)
    output reg         win_tgl        // toggles at each window end
);
    reg [15:0] pre_cnt;               // clk_slow cycles into the current tick
    reg [23:0] win_cnt;               // ticks into the current window

    always @(posedge clk_slow or negedge rst_n) begin
        if (!rst_n) begin
            pre_cnt <= 16'd0;
            win_cnt <= 24'd0;
            win_tgl <= 1'b0;
        end else if (!en || restart) begin
            if (pre_cnt != 16'd0) pre_cnt <= 16'd0;
            if (win_cnt != 24'd0) win_cnt <= 24'd0;
        end else if (pre_cnt < tick_div - 16'd1) begin
            pre_cnt <= pre_cnt + 16'd1;
        end else begin                                   // a tick
            pre_cnt <= 16'd0;
            if (win_cnt < window_len - 24'd1) begin
                win_cnt <= win_cnt + 24'd1;
            end else begin                               // a window end
                win_cnt <= 24'd0;
                win_tgl <= ~win_tgl;
            end
        end
    end
endmodule

`default_nettype wire
