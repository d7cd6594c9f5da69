// p2m_win_sync: the window end, carried from the slow domain into the readout clock domain
// (contract: rtl/REGISTERS.md "Timing", "Clocking and clock-domain crossings"; docs/rtl.md).
//
// The window timer toggles win_tgl (clk_slow) at each window end; p2m_sync2 brings it into
// clk; a toggle not yet acted on (tgl_s != seen) is a window end: sample_pend rises (the
// readout controller raises ana_sample as soon as it is free and answers sample_ack) and, if
// the controller was busy or a sample still pending, overrun pulses for one cycle
// (CNT_OVERRUN, STATUS.OVERRUN). Several late window ends merge into one pending sample.
// Timing: win_tgl toggles at clk_slow edge S; with F1 the first clk edge after S, tgl_s
// changes at F2, sample_pend (and overrun) at F3, and an idle controller raises ana_sample
// at F4. A window end is never lost as long as the clock start-up plus 3 clk periods is
// shorter than one window (TICK_DIV * WINDOW_LEN clk_slow periods).
//
// req_seen is `seen` one clk edge later: p2m_clk_req requests the clock while
// win_tgl != req_seen, i.e. from the window end until one edge after this module has taken
// it over (its busy output holds the request from then on, without a gap).
`timescale 1ns / 1ps
`default_nettype none

module p2m_win_sync (
    input  wire clk,
    input  wire rst_n,                // synchronized to clk
    input  wire win_tgl,              // clk_slow domain: toggles at each window end
    input  wire ctrl_busy,            // the readout controller cannot take a sample now
    input  wire sample_ack,           // the controller takes the pending sample at this edge
    output reg  sample_pend,          // a window has ended and its sample is not yet taken
    output reg  overrun,              // one-cycle pulse: a window ended late
    output reg  req_seen,             // for p2m_clk_req (see above)
    output wire busy                  // something here changes at the next clk edge
);
    wire tgl_s;
    reg  seen;                        // the last window-end toggle acted on

    p2m_sync2 u_sync_win (.clk(clk), .rst_n(rst_n), .d(win_tgl), .q(tgl_s));

    wire win_end = (tgl_s != seen);
    assign busy  = win_end || (req_seen != seen) || overrun || sample_ack;
    // the edges at which the block below changes something: the same set as `busy` (an
    // event-driven simulator evaluates its body only then; docs/rtl.md "Simulation speed")
    wire act = busy;

    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            seen        <= 1'b0;
            req_seen    <= 1'b0;
            sample_pend <= 1'b0;
            overrun     <= 1'b0;
        end else if (act) begin
            if (req_seen != seen) req_seen <= seen;
            if (overrun)    overrun     <= 1'b0;
            if (sample_ack) sample_pend <= 1'b0;
            if (win_end) begin
                seen        <= tgl_s;
                sample_pend <= 1'b1;                     // wins over a same-edge sample_ack
                if (ctrl_busy || sample_pend) overrun <= 1'b1;
            end
        end
    end
endmodule

`default_nettype wire
