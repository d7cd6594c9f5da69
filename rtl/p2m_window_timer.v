// p2m_window_timer: the integration time base (runs on the free-running clk).
//
// A prescaler divides clk by tick_div into one tick (one microsecond when tick_div is the
// clk frequency in MHz); the window counter counts window_len ticks. Both run only while
// en = 1 and restart from zero when en is cleared. Windows stay on a fixed grid: the
// readout never stretches them. With the edge that writes CTRL.EN = 1 called E0, window k
// (k = 1, 2, ...) ends at edge E0 + k * tick_div * window_len, where sample_pend rises; the
// controller, when free, raises ana_sample at the next edge.
//
// At each window end sample_pend is set; the readout controller takes it (sample_ack) as
// soon as it is free. A window end that finds the controller busy (readout, per-channel
// reset or global reset running, a global reset queued) or a sample still pending is late:
// overrun pulses for one cycle (CNT_OVERRUN, STATUS.OVERRUN). Late window ends that pile up
// while one sample is pending merge into that one sample (each is counted as an overrun).
//
// Clock-gate enable: gate_q (reset 1) decides whether the gated domain (p2m_clk_gate) gets
// the next rising edge. gate_q <= gate_hold | (aer_ack != ack_meta) | (a sample_pend or
// overrun raised at this edge), where gate_hold is the gated domain's "not at rest" before
// this edge (APB psel, a sample the controller takes, overrun pulse, readout/reset/
// programming busy, the AER transmitter about to move). Every change of a gated register is
// caused by values visible before its edge, and all of them are in gate_hold, so the gated
// domain gets every edge it acts on (and one idle edge after); the inputs that change on
// their own have a look-ahead: psel (APB setup phase), the window end (here), aer_ack.
//
// AER ack synchronizer, first flop: ack_meta samples aer_ack at every clk edge (the second
// flop, ack_sync, is in p2m_aer_tx on the gated clock). An ack edge sampled into ack_meta
// at edge A opens the gate for A+1 (ack_sync follows, as without the gate), and
// ack_meta != ack_sync keeps it open for A+2 (the transmitter acts). So while the
// transmitter waits for the receiver the gated domain stops, and the ports behave exactly
// as with CLK_GATE = 0.
//
// Simulation speed: this is the only process woken on every clk edge while the chip
// integrates or waits for aer_ack (the gate flop and ack_meta share it). One 16-bit compare
// and increment per cycle; the 24-bit window counter moves once per tick; no continuous
// assignment toggles per cycle besides the gate's OR.
`timescale 1ns / 1ps

module p2m_window_timer (
    input  wire        clk,
    input  wire        rst_n,
    input  wire        en,            // CTRL.EN
    input  wire [15:0] tick_div,      // clk cycles per tick (>= 1, CSR guarantees it)
    input  wire [23:0] window_len,    // ticks per window (>= 1, CSR guarantees it)
    input  wire        ctrl_busy,     // the readout controller cannot take a sample now
    input  wire        sample_ack,    // the controller takes the pending sample at this edge
    input  wire        gate_hold,     // the gated domain is not at rest (see above)
    input  wire        aer_ack,       // AER acknowledge (asynchronous)
    output reg         ack_meta,      // aer_ack, first synchronizer flop
    output reg         sample_pend,   // a window has ended and its sample is not yet taken
    output reg         overrun,       // one-cycle pulse: a window ended late
    output reg         gate_q         // clock-gate enable for the next rising edge
);
    reg [15:0] pre_cnt;               // clk cycles into the current tick
    reg [23:0] win_cnt;               // ticks into the current window

    wire ack_edge  = (aer_ack != ack_meta);   // an ack edge the synchronizer has not seen
    wire gate_next = gate_hold || ack_edge;

    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            pre_cnt     <= 16'd0;
            win_cnt     <= 24'd0;
            sample_pend <= 1'b0;
            overrun     <= 1'b0;
            gate_q      <= 1'b1;
            ack_meta    <= 1'b0;
        end else begin
            // open the gate for the next edge (a window end below opens it too); an ack edge
            // implies gate_next, so the synchronizer flop costs nothing while idle
            if (gate_next) begin
                if (!gate_q)  gate_q   <= 1'b1;
                if (ack_edge) ack_meta <= aer_ack;
            end else if (gate_q) begin
                gate_q <= 1'b0;
            end
            if (overrun)    overrun     <= 1'b0;
            if (sample_ack) sample_pend <= 1'b0;
            if (!en) begin
                if (pre_cnt != 16'd0) pre_cnt <= 16'd0;
                if (win_cnt != 24'd0) win_cnt <= 24'd0;
            end else if (pre_cnt < tick_div - 16'd1) begin
                pre_cnt <= pre_cnt + 16'd1;
            end else begin                               // a tick
                pre_cnt <= 16'd0;
                if (win_cnt < window_len - 24'd1) begin
                    win_cnt <= win_cnt + 24'd1;
                end else begin                           // a window end
                    win_cnt     <= 24'd0;
                    sample_pend <= 1'b1;                 // wins over a same-edge sample_ack
                    gate_q      <= 1'b1;
                    if (ctrl_busy || sample_pend) overrun <= 1'b1;
                end
            end
        end
    end
endmodule
