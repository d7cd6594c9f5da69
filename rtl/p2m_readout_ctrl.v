// p2m_readout_ctrl: the phase controller (sample -> readout -> reset, and global reset).
//
// Phases of one window end (REGISTERS.md "Timing"):
//   S_SAMPLE : ana_sample = 1 for one cycle: every comparator of every channel is latched
//              at the same edge; events after it count for the next window.
//   then for channel c = 0 .. N_CH-1:
//   S_SETTLE : ana_ch_sel = c (changes at the edge entering S_SETTLE); ana_flags is latched
//              FLAG_SETTLE edges later into flags_lat (kept for the reset mask), with one
//              OR bit per row (rows_left).
//   S_PICK   : one cycle: no spike in c -> the next channel (or the end of the readout);
//              else the lowest non-empty row is registered (nrow_*), then
//   S_LOAD   : it is loaded into row_bits (the work copy, one row at a time).
//              (v2: PICK and LOAD split what v1.1 did at the latch edge, so that `clk`
//              closes at 100 MHz on an ECP5; docs/rtl.md "FPGA prototype".)
//   S_SEND   : the arbiter picks the first set flag in row-major order (first non-empty
//              row y, then its first column x), offers {c, y, x} to the AER transmitter and
//              clears that bit when it is taken. The next address is ready in the next
//              cycle, so the arbiter never limits the AER rate. When no flag is left and
//              the last handshake has returned to zero (tx_idle):
//   S_RESET  : one masked reset pulse for channel c with mask = flags_lat, then the next
//              channel.
//   S_GRESET : global reset (power-up: grst_pend is 1 out of reset; CTRL.GRST).
// A neuron is reset only after its spike has been acknowledged on the AER bus.
//
// Speed: the arbiter works one row at a time (see below): per spike only row-wide
// (OUT_W) operations, evaluated once per spike by an event-driven simulator, never while
// idle.
//
// Geometry: N_CH channels of OUT_H x OUT_W neurons; the address field widths are derived
// ($clog2, at least 1 bit), as in p2m_top.
`timescale 1ns / 1ps
`default_nettype none

module p2m_readout_ctrl #(
    parameter N_CH        = 32,
    parameter OUT_H       = 16,
    parameter OUT_W       = 16,
    parameter FLAG_SETTLE = 2         // cycles from ana_ch_sel change to the flag latch (1..255)
) (
    clk,
    rst_n,
    sample_pend,
    sample_ack,
    ctrl_busy,
    grst_req,
    ro_busy,
    grst_busy,
    ctrl_phase,
    readout_done,
    spike_taken,
    ana_sample,
    ana_ch_sel,
    ana_flags,
    ev_valid,
    ev_addr,
    ev_ready,
    tx_idle,
    rs_start_ch,
    rs_start_all,
    rs_ch,
    rs_mask,
    rs_done
);
    // derived geometry widths (as in p2m_top)
    localparam CH_BITS = (N_CH  > 1) ? $clog2(N_CH)  : 1;
    localparam Y_BITS  = (OUT_H > 1) ? $clog2(OUT_H) : 1;
    localparam X_BITS  = (OUT_W > 1) ? $clog2(OUT_W) : 1;
    localparam N_NEUR  = OUT_H * OUT_W;
    localparam AW      = CH_BITS + Y_BITS + X_BITS;

    input  wire                clk;
    input  wire                rst_n;
    // window timer
    input  wire                sample_pend;  // a window has ended
    output wire                sample_ack;  // its sample is taken at this edge
    output wire                ctrl_busy;  // not free to take a sample now (also: the clock must run)
    // global reset request (CTRL.GRST accepted); a power-up one is queued out of reset
    input  wire                grst_req;
    // status
    output wire                ro_busy;  // STATUS.BUSY: readout/reset running or sample pending
    output wire                grst_busy;  // STATUS.GRST_BUSY
    output reg  [2:0]          ctrl_phase;  // 0 idle, 2 SAMPLE, 3 READOUT, 4 RESET, 5 GRESET
    output reg                 readout_done;  // one-cycle pulse: a whole readout has finished
    output wire                spike_taken;  // one-cycle: a spike was handed to the AER transmitter
    // analog boundary
    output reg                 ana_sample;
    output reg  [CH_BITS-1:0]  ana_ch_sel;
    input  wire [N_NEUR-1:0]   ana_flags;
    // AER transmitter
    output wire                ev_valid;
    output wire [AW-1:0]       ev_addr;
    input  wire                ev_ready;
    input  wire                tx_idle;
    // reset sequencer
    output wire                rs_start_ch;
    output wire                rs_start_all;
    output wire [CH_BITS-1:0]  rs_ch;
    output wire [N_NEUR-1:0]   rs_mask;
    input  wire                rs_done;

    localparam [2:0] S_IDLE   = 3'd0,
                     S_GRESET = 3'd1,
                     S_SAMPLE = 3'd2,
                     S_SETTLE = 3'd3,
                     S_SEND   = 3'd4,
                     S_RESET  = 3'd5,
                     S_PICK   = 3'd6,
                     S_LOAD   = 3'd7;

    localparam integer LAST_CH_I     = N_CH - 1;
    localparam integer SETTLE_LOAD_I = FLAG_SETTLE - 1;
    localparam [CH_BITS-1:0] LAST_CH     = LAST_CH_I[CH_BITS-1:0];
    localparam [7:0]         SETTLE_LOAD = SETTLE_LOAD_I[7:0];

    reg [2:0]         state;
    reg               grst_pend;
    reg [7:0]         settle_cnt;
    reg [N_NEUR-1:0]  flags_lat;     // flags of the current channel as latched
    reg               flags_any;     // flags_lat has a set bit (registered at the latch)
    reg [OUT_W-1:0]   row_bits;      // spikes of row cur_y not yet handed to the transmitter
    reg [Y_BITS-1:0]  cur_y;         // the row being sent
    reg [OUT_H-1:0]   rows_left;     // rows with spikes not yet loaded into row_bits
    reg [OUT_H-1:0]   nrow_oh;       // the lowest row of rows_left (one-hot), ...
    reg [Y_BITS-1:0]  nrow_y;        // ... and its index: the next row to load
    reg               row_ok;        // row_bits unchanged since the last edge: x_q, rest_q,
    reg [X_BITS-1:0]  x_q;           //   last_q hold the lowest set bit of row_bits,
    reg [OUT_W-1:0]   rest_q;        //   row_bits without it,
    reg               last_q;        //   and whether that leaves the row empty
    reg               sent_all;      // the channel's last spike was taken (row_bits and
                                     //   rows_left empty), a register for the reset start

    wire grst_go     = grst_pend || grst_req;

    // ---------------------------------------------------------------- arbiter
    // Row-major order, one row at a time, with the row choice one register ahead (so that
    // no path runs from the flags through an encoder into a row select in one cycle:
    // docs/rtl.md "FPGA prototype"). At the latch edge the flags go to flags_lat and every
    // row is summarized by one OR bit into rows_left; S_PICK registers the lowest non-empty
    // row (nrow_oh, nrow_y). A row is loaded (row_bits <= that row of flags_lat) in
    // S_LOAD, and again whenever the current row empties
    // (when its last spike is taken); each load also registers the next lowest row of
    // what is left. A spike is the lowest set bit of row_bits (x), so the next address is
    // ready in the cycle after a spike is taken. Per spike only OUT_W- and OUT_H-wide
    // operations run (no loops): an event-driven simulator evaluates the arbiter once per
    // spike and never while idle.
    wire [OUT_H-1:0] in_row_any;               // rows of ana_flags with a flag
    genvar r;
    generate
        for (r = 0; r < OUT_H; r = r + 1) begin : g_row_any
            assign in_row_any[r] = |ana_flags[r*OUT_W +: OUT_W];
        end
    endgenerate

    wire [OUT_H-1:0]  after_oh;
    wire [Y_BITS-1:0] after_y;
    wire [OUT_W-1:0]  x_oh;
    wire [X_BITS-1:0] enc_x;
    wire [OUT_H-1:0]  rows_after = rows_left & ~nrow_oh;   // rows left once nrow is loaded

    p2m_lsb_enc #(.W(OUT_H), .IW(Y_BITS)) u_next_row (
        .v (rows_after), .onehot (after_oh), .idx (after_y));
    p2m_lsb_enc #(.W(OUT_W), .IW(X_BITS)) u_col (
        .v (row_bits), .onehot (x_oh), .idx (enc_x));

    wire [OUT_W-1:0] row_rest = row_bits & ~x_oh;   // the row after the current spike

    // ---------------------------------------------------------------- handshakes
    // A spike is offered only while row_ok: its column (x_q) and what the row becomes when
    // it is taken (rest_q, last_q) are registers, so the take decides nothing through the
    // column encoder. row_ok is 0 only in the cycle after row_bits changed; after a take
    // the transmitter is busy for at least 5 more cycles anyway, so this costs one cycle
    // per spiking channel (its first spike), not per spike.
    assign ev_valid     = (state == S_SEND) && (|row_bits) && row_ok;
    assign ev_addr      = {ana_ch_sel, cur_y, x_q};
    assign spike_taken  = ev_valid && ev_ready;
    wire   chan_drained = (state == S_SEND) && sent_all && tx_idle;
    wire   chan_empty   = (state == S_PICK) && !flags_any && tx_idle;
    wire   pick_row     = (state == S_PICK) && flags_any;
    wire   load_row     = (state == S_LOAD) ||
                          (spike_taken && last_q && rows_left != {OUT_H{1'b0}});
    assign rs_start_ch  = chan_drained && flags_any;
    assign rs_start_all = (state == S_IDLE) && grst_go;
    assign rs_ch        = ana_ch_sel;
    assign rs_mask      = flags_lat;
    assign sample_ack   = (state == S_IDLE) && !grst_go && sample_pend;
    assign ctrl_busy    = (state != S_IDLE) || grst_go;
    assign ro_busy      = (state == S_SAMPLE) || (state == S_SETTLE) || (state == S_PICK) ||
                          (state == S_LOAD) || (state == S_SEND) || (state == S_RESET) ||
                          sample_pend;
    assign grst_busy    = grst_pend || (state == S_GRESET);

    wire last_ch = (ana_ch_sel == LAST_CH);
    // the current channel is done: no spike in it, or its reset pulse has ended
    wire chan_next = chan_empty || ((state == S_RESET) && rs_done);

    // The edges at which the clocked block below changes something (docs/rtl.md "Simulation
    // speed": an event-driven simulator evaluates a block's body only where it must). Of an
    // AER event's edges two touch this block, both in S_SEND: the take (spike_taken) and
    // the column registers' update one edge later (!row_ok); they skip the phase FSM, which
    // act_fsm guards (every other condition of the block). make lint proves both guards
    // (scripts/guard_check.py: forcing act or act_fsm to 1 changes no register).
    wire act_fsm = (state == S_SAMPLE) || (state == S_SETTLE) || (state == S_PICK) ||
                   (state == S_LOAD) || readout_done || grst_req ||
                   ((state == S_IDLE) && (grst_go || sample_pend)) ||
                   (((state == S_GRESET) || (state == S_RESET)) && rs_done) || chan_drained;
    wire act      = act_fsm || spike_taken || !row_ok;
    wire latch    = (state == S_SETTLE) && (settle_cnt == 8'd0);   // flags latched at this edge
    // a row load: the next row of flags_lat (S_LOAD, or the take that empties the row)
    wire [OUT_W-1:0] nrow_bits = flags_lat[nrow_y*OUT_W +: OUT_W];

    always @* begin
        case (state)
            S_GRESET: ctrl_phase = 3'd5;
            S_SAMPLE: ctrl_phase = 3'd2;
            S_SETTLE: ctrl_phase = 3'd3;
            S_PICK:   ctrl_phase = 3'd3;
            S_LOAD:   ctrl_phase = 3'd3;
            S_SEND:   ctrl_phase = 3'd3;
            S_RESET:  ctrl_phase = 3'd4;
            default:  ctrl_phase = 3'd0;
        endcase
    end

    // ---------------------------------------------------------------- FSM
    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            state        <= S_IDLE;
            grst_pend    <= 1'b1;             // power-up global reset
            settle_cnt   <= 8'd0;
            ana_sample   <= 1'b0;
            ana_ch_sel   <= {CH_BITS{1'b0}};
            readout_done <= 1'b0;
            flags_lat    <= {N_NEUR{1'b0}};
            flags_any    <= 1'b0;
            row_bits     <= {OUT_W{1'b0}};
            cur_y        <= {Y_BITS{1'b0}};
            rows_left    <= {OUT_H{1'b0}};
            nrow_oh      <= {OUT_H{1'b0}};
            nrow_y       <= {Y_BITS{1'b0}};
            row_ok       <= 1'b1;
            x_q          <= {X_BITS{1'b0}};
            rest_q       <= {OUT_W{1'b0}};
            last_q       <= 1'b1;
            sent_all     <= 1'b0;
        end else if (act) begin
            // flag registers: written only at the latch edge, at a row load and when a
            // spike is taken
            if (latch) begin
                flags_lat <= ana_flags;
                flags_any <= |in_row_any;
                rows_left <= in_row_any;
            end else if (pick_row) begin      // nrow_oh is 0 here: after_* = lowest row
                nrow_oh   <= after_oh;
                nrow_y    <= after_y;
            end else if (load_row) begin
                row_bits  <= nrow_bits;
                cur_y     <= nrow_y;
                rows_left <= rows_after;
                nrow_oh   <= after_oh;
                nrow_y    <= after_y;
            end else if (spike_taken) begin
                row_bits  <= rest_q;
            end
            // sent_all: set by the take that empties the channel, cleared at the next latch
            if (latch) begin
                if (sent_all) sent_all <= 1'b0;
            end else if (spike_taken && last_q && rows_left == {OUT_H{1'b0}}) begin
                sent_all <= 1'b1;
            end
            // the column registers follow row_bits one edge later (written once per change)
            if (load_row || spike_taken) begin
                row_ok <= 1'b0;
            end else if (!row_ok) begin
                row_ok <= 1'b1;
                x_q    <= enc_x;
                rest_q <= row_rest;
                last_q <= (row_rest == {OUT_W{1'b0}});
            end
            // the phase FSM (at every edge but an AER event's two in S_SEND)
            if (act_fsm) begin
                if (readout_done) readout_done <= 1'b0;
                if (rs_start_all)  grst_pend <= 1'b0;
                else if (grst_req) grst_pend <= 1'b1;
                case (state)
                    S_IDLE: begin
                        if (grst_go) begin
                            state <= S_GRESET;
                        end else if (sample_pend) begin
                            ana_sample <= 1'b1;
                            state      <= S_SAMPLE;
                        end
                    end
                    S_GRESET: if (rs_done) state <= S_IDLE;
                    S_SAMPLE: begin
                        ana_sample <= 1'b0;
                        ana_ch_sel <= {CH_BITS{1'b0}};
                        settle_cnt <= SETTLE_LOAD;
                        state      <= S_SETTLE;
                    end
                    S_SETTLE: begin
                        if (settle_cnt == 8'd0) state <= S_PICK;
                        else settle_cnt <= settle_cnt - 8'd1;
                    end
                    S_LOAD: state <= S_SEND;      // the first row is loaded
                    S_PICK: if (flags_any) state <= S_LOAD;   // spikes: pick the first row
                    S_SEND: if (chan_drained) state <= S_RESET;   // a channel in SEND has spikes
                    S_RESET: ;                    // until rs_done (chan_next, below)
                    default: state <= S_IDLE;
                endcase
                // the channel is done (no spike, or its reset pulse ended): the next
                // channel, or the end of the readout
                if (chan_next) begin
                    if (last_ch) begin
                        readout_done <= 1'b1;
                        state        <= S_IDLE;
                    end else begin
                        ana_ch_sel <= ana_ch_sel + {{(CH_BITS-1){1'b0}}, 1'b1};
                        settle_cnt <= SETTLE_LOAD;
                        state      <= S_SETTLE;
                    end
                end
            end
        end
    end

endmodule

`default_nettype wire
