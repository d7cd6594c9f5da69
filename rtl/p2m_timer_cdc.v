// p2m_timer_cdc: carries the window timer's configuration (CTRL.EN, TICK_DIV, WINDOW_LEN)
// from the readout clock domain (clk) to the always-on slow domain (clk_slow)
// (contract: rtl/REGISTERS.md "Clocking and clock-domain crossings"; docs/rtl.md).
//
// A multi-bit value may not cross through per-bit synchronizers (its bits would arrive at
// different edges), so it crosses as held data with a toggle handshake:
//   clk side  : when no transfer is in flight and the live value differs from the one sent
//               (or EN was set since the last transfer: a restart), `hold` <= live and
//               `req_tgl` toggles. `hold` does not change again until the ack comes back.
//   clk_slow  : req_tgl through p2m_sync2; when it differs from `ack_tgl`, the slow copies
//               are loaded from `hold` (stable for two clk_slow cycles by then) and ack_tgl
//               follows; `restart` is high for the next clk_slow cycle when the word carried
//               a restart (the window timer zeroes its counters).
//   clk side  : ack_tgl through p2m_sync2 ends the transfer.
// The structural CDC check accepts `hold` -> slow copies as handshake data: the destination
// flops load only when enabled by the synchronized request.
// Latency: a CSR write at clk edge E is sent at E+1; the slow copies change at the 3rd
// clk_slow edge after E+1 (S3), restart zeroes the timer at S3+1; the transfer ends two clk
// edges after the first clk edge after S3. `busy` keeps the readout clock requested
// meanwhile (the ack needs clk edges).
`timescale 1ns / 1ps
`default_nettype none

module p2m_timer_cdc (
    // readout clock domain
    input  wire        clk,
    input  wire        rst_n,          // synchronized to clk
    input  wire        en,             // CTRL.EN (live)
    input  wire [15:0] tick_div,       // TICK_DIV (live)
    input  wire [23:0] window_len,     // WINDOW_LEN (live)
    output wire        busy,           // a transfer is in flight or due
    // slow clock domain
    input  wire        clk_slow,
    input  wire        rst_slow_n,     // synchronized to clk_slow
    output reg         s_en,
    output reg  [15:0] s_tick_div,
    output reg  [23:0] s_window_len,
    output reg         s_restart       // one clk_slow cycle after a word with a restart
);
    localparam [15:0] TICK_DIV_RESET   = 16'd1;       // REGISTERS.md reset values
    localparam [23:0] WINDOW_LEN_RESET = 24'd10000;

    // ---------------------------------------------------------------- clk side
    reg        req_tgl;
    reg        en_seen;                // EN as of the last edge (restart detection)
    reg        restart_pend;           // EN was set since the last transfer
    reg        h_en, h_restart;
    reg [15:0] h_tick_div;
    reg [23:0] h_window_len;
    reg        ack_tgl;                // clk_slow side, below
    wire       ack_s;

    p2m_sync2 u_sync_ack (.clk(clk), .rst_n(rst_n), .d(ack_tgl), .q(ack_s));

    wire idle    = (req_tgl == ack_s);
    wire en_rise = en && !en_seen;
    wire differs = (en != h_en) || (tick_div != h_tick_div) || (window_len != h_window_len);
    wire due     = differs || restart_pend || en_rise;
    assign busy  = !idle || due;
    // the clocked block below changes nothing at other edges (a superset of its
    // conditions: an event-driven simulator then evaluates its body only at such edges;
    // docs/rtl.md "Simulation speed")
    wire act     = (en_seen != en) || (idle && due);

    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            req_tgl      <= 1'b0;
            en_seen      <= 1'b0;
            restart_pend <= 1'b0;
            h_en         <= 1'b0;
            h_restart    <= 1'b0;
            h_tick_div   <= TICK_DIV_RESET;
            h_window_len <= WINDOW_LEN_RESET;
        end else if (act) begin
            if (en_seen != en) en_seen <= en;
            if (idle && due) begin                       // send the live value
                h_en         <= en;
                h_restart    <= restart_pend || en_rise;
                h_tick_div   <= tick_div;
                h_window_len <= window_len;
                req_tgl      <= ~req_tgl;
                restart_pend <= 1'b0;
            end else if (en_rise) begin
                restart_pend <= 1'b1;                    // sent with the next transfer
            end
        end
    end

    // ---------------------------------------------------------------- clk_slow side
    wire req_s;

    p2m_sync2 u_sync_req (.clk(clk_slow), .rst_n(rst_slow_n), .d(req_tgl), .q(req_s));
    wire act_s = (req_s != ack_tgl) || s_restart;  // as `act`, for the block below

    always @(posedge clk_slow or negedge rst_slow_n) begin
        if (!rst_slow_n) begin
            ack_tgl      <= 1'b0;
            s_en         <= 1'b0;
            s_restart    <= 1'b0;
            s_tick_div   <= TICK_DIV_RESET;
            s_window_len <= WINDOW_LEN_RESET;
        end else if (act_s) begin
            if (req_s != ack_tgl) begin                  // hold is stable: load it
                s_en         <= h_en;
                s_restart    <= h_restart;
                s_tick_div   <= h_tick_div;
                s_window_len <= h_window_len;
                ack_tgl      <= req_s;
            end else if (s_restart) begin
                s_restart <= 1'b0;
            end
        end
    end
endmodule

`default_nettype wire
