// p2m_apb_csr: APB3 slave with the register file, status, counters and pslverr rules of
// rtl/REGISTERS.md.
//
// APB3, zero wait states: pready = 1. A write takes effect at the clk edge of its access
// phase (psel & penable & pwrite). prdata and pslverr are combinational and valid in the
// access phase; prdata is 0 outside a read. paddr[1:0] are ignored.
// Illegal accesses (pslverr = 1 in the access phase, no effect at all):
//   * any access to an unmapped address (>= 0x048),
//   * a write to a RO register (ID, CNT_*),
//   * a write to PROG_SET_WIDTH .. PROG_CMD while STATUS.PROG_BUSY,
//   * a write to CTRL with GRST = 1 while STATUS.BUSY (the whole write is refused).
// Counters saturate at 2^32 - 1. Each counts its event at the clk edge at which the event
// happens at the ports: CNT_EVENTS where aer_req falls (ev_done), CNT_WINDOWS where
// ana_sample rises (win_sampled), CNT_OVERRUN at the edge that ends the
// overrun pulse of p2m_win_sync, CNT_SPIKES_LAST where the readout ends. CTRL.CNT_CLR clears CNT_* at its
// access edge and wins over an increment at the same edge. W1C status bits: a set in the
// same cycle as the clear wins.
`timescale 1ns / 1ps
`default_nettype none

module p2m_apb_csr #(
    parameter PROG_IDX_BITS = 10,     // <= 12 (PROG_ADDR.INDEX is [11:0] at most)
    parameter PROBE_BITS    = 13      // CH_BITS + Y_BITS + X_BITS, <= 32
) (
    input  wire                     clk,
    input  wire                     rst_n,
    // APB3
    input  wire                     psel,
    input  wire                     penable,
    input  wire                     pwrite,
    input  wire [11:0]              paddr,
    input  wire [31:0]              pwdata,
    output reg  [31:0]              prdata,
    output wire                     pready,
    output wire                     pslverr,
    // configuration
    output reg                      en,
    output reg  [15:0]              tick_div,
    output reg  [23:0]              window_len,
    output reg  [15:0]              rst_width,
    output reg  [15:0]              prog_set_width,
    output reg  [15:0]              prog_rst_width,
    output reg  [15:0]              prog_gap,
    output reg  [PROG_IDX_BITS-1:0] prog_index,
    output reg  [1:0]               prog_target,
    output reg  [7:0]               prog_code,
    output reg  [PROBE_BITS-1:0]    probe,
    // command pulses (combinational, in the cycle of the accepted write)
    output wire                     prog_start,
    output wire                     grst_req,
    // status inputs
    input  wire                     ro_busy,
    input  wire                     prog_busy,
    input  wire                     prog_done,    // 1 in the last cycle of a programming sequence
    input  wire                     grst_busy,
    input  wire [2:0]               phase,
    input  wire                     cfg_busy,     // the timer configuration is crossing to clk_slow
    input  wire                     overrun,      // pulse: a window ended late
    input  wire                     win_sampled,  // ana_sample rises at this edge
    input  wire                     spike_taken,  // pulse: a spike handed to the AER transmitter
    input  wire                     readout_done, // pulse: a readout finished
    input  wire                     ev_done,      // aer_req falls at this edge (event acknowledged)
    output wire                     irq
);
    // word addresses (byte address >> 2)
    localparam [9:0] A_ID        = 10'h000, A_CTRL       = 10'h001, A_STATUS    = 10'h002,
                     A_TICK_DIV  = 10'h003, A_WINDOW_LEN = 10'h004, A_RST_WIDTH = 10'h005,
                     A_PSET_W    = 10'h006, A_PRST_W     = 10'h007, A_PGAP      = 10'h008,
                     A_PADDR     = 10'h009, A_PCODE      = 10'h00A, A_PCMD      = 10'h00B,
                     A_CNT_EV    = 10'h00C, A_CNT_WIN    = 10'h00D, A_CNT_SPK   = 10'h00E,
                     A_CNT_OVR   = 10'h00F, A_PROBE      = 10'h010, A_IRQ_EN    = 10'h011;
    localparam [31:0] ID_VALUE = 32'h5032_4D02;   // "P2M", contract version 2

    wire [9:0] waddr  = paddr[11:2];
    wire       access = psel && penable;
    wire       wr     = access && pwrite;

    reg        prog_done_st, overrun_st;
    reg [1:0]  irq_en;
    reg [31:0] cnt_events, cnt_windows, cnt_spikes_last, cnt_overrun;
    reg [31:0] spikes_run;     // spikes of the readout in progress

    // zero-extended copies for the read mux
    wire [11:0] prog_index_12;
    wire [31:0] probe_32;
    generate
        if (PROG_IDX_BITS < 12) begin : g_idx_pad
            assign prog_index_12 = {{(12 - PROG_IDX_BITS){1'b0}}, prog_index};
        end else begin : g_idx_full
            assign prog_index_12 = prog_index;
        end
        if (PROBE_BITS < 32) begin : g_probe_pad
            assign probe_32 = {{(32 - PROBE_BITS){1'b0}}, probe};
        end else begin : g_probe_full
            assign probe_32 = probe;
        end
    endgenerate

    wire mapped   = (waddr <= A_IRQ_EN);
    wire ro_reg   = (waddr == A_ID) || (waddr == A_CNT_EV) || (waddr == A_CNT_WIN) ||
                    (waddr == A_CNT_SPK) || (waddr == A_CNT_OVR);
    wire prog_reg = (waddr >= A_PSET_W) && (waddr <= A_PCMD);
    wire illegal  = !mapped ||
                    (pwrite && (ro_reg || (prog_reg && prog_busy) ||
                                (waddr == A_CTRL && pwdata[1] && ro_busy)));

    assign pready  = 1'b1;
    assign pslverr = access && illegal;

    wire wr_ok = wr && !illegal;
    // The edges at which the clocked block below changes something (docs/rtl.md "Simulation
    // speed": an event-driven simulator evaluates a block's body only where it must): an
    // AER event's two (ev_done, spike_taken) touch only the event counters; act_rare (a
    // superset of every other condition of the block) guards the rest (both guards proven
    // by make lint, scripts/guard_check.py).
    wire act_rare = wr_ok || prog_done || overrun || win_sampled || readout_done;
    wire act      = act_rare || ev_done || spike_taken;
    wire wr_ctrl   = wr_ok && (waddr == A_CTRL);
    wire wr_status = wr_ok && (waddr == A_STATUS);
    wire cnt_clr   = wr_ctrl && pwdata[2];
    assign grst_req   = wr_ctrl && pwdata[1];
    assign prog_start = wr_ok && (waddr == A_PCMD) && pwdata[0];
    assign irq = (prog_done_st && irq_en[0]) || (overrun_st && irq_en[1]);

    // a field documented ">= 1": a write of 0 stores 1
    function [15:0] min1_16;
        input [15:0] v;
        min1_16 = (v == 16'd0) ? 16'd1 : v;
    endfunction

    function [31:0] sat_inc;                // saturating counter step
        input [31:0] v;
        sat_inc = (v == 32'hFFFF_FFFF) ? v : v + 32'd1;
    endfunction

    // One process for every CSR flop (fewer wake-ups per clock edge in simulation).
    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            en              <= 1'b0;
            tick_div        <= 16'd1;
            window_len      <= 24'd10000;
            rst_width       <= 16'd16;
            prog_set_width  <= 16'd4;
            prog_rst_width  <= 16'd32;
            prog_gap        <= 16'd2;
            prog_index      <= {PROG_IDX_BITS{1'b0}};
            prog_target     <= 2'd0;
            prog_code       <= 8'd0;
            probe           <= {PROBE_BITS{1'b0}};
            irq_en          <= 2'b00;
            prog_done_st    <= 1'b0;
            overrun_st      <= 1'b0;
            cnt_events      <= 32'd0;
            cnt_windows     <= 32'd0;
            cnt_spikes_last <= 32'd0;
            cnt_overrun     <= 32'd0;
            spikes_run      <= 32'd0;
        end else if (act) begin
            if (act_rare) begin
                // ------------------------------------------------ RW registers
                if (wr_ok) begin
                    case (waddr)
                        A_CTRL:       en             <= pwdata[0];
                        A_TICK_DIV:   tick_div       <= min1_16(pwdata[15:0]);
                        A_WINDOW_LEN: window_len     <= (pwdata[23:0] == 24'd0) ? 24'd1 : pwdata[23:0];
                        A_RST_WIDTH:  rst_width      <= min1_16(pwdata[15:0]);
                        A_PSET_W:     prog_set_width <= min1_16(pwdata[15:0]);
                        A_PRST_W:     prog_rst_width <= min1_16(pwdata[15:0]);
                        A_PGAP:       prog_gap       <= min1_16(pwdata[15:0]);
                        A_PADDR: begin
                            prog_index  <= pwdata[PROG_IDX_BITS-1:0];
                            prog_target <= pwdata[13:12];
                        end
                        A_PCODE:      prog_code      <= pwdata[7:0];
                        A_PROBE:      probe          <= pwdata[PROBE_BITS-1:0];
                        A_IRQ_EN:     irq_en         <= pwdata[1:0];
                        default: ;
                    endcase
                end
                // ------------------------------------------------ status bits (set wins)
                if (prog_done)                   prog_done_st <= 1'b1;
                else if (wr_status && pwdata[2]) prog_done_st <= 1'b0;
                if (overrun)                     overrun_st   <= 1'b1;
                else if (wr_status && pwdata[4]) overrun_st   <= 1'b0;
                // ------------------------------------------------ window counters (clear wins)
                if (cnt_clr) begin
                    cnt_windows     <= 32'd0;
                    cnt_spikes_last <= 32'd0;
                    cnt_overrun     <= 32'd0;
                end else begin
                    if (win_sampled)  cnt_windows     <= sat_inc(cnt_windows);
                    if (readout_done) cnt_spikes_last <= spikes_run;
                    if (overrun)      cnt_overrun     <= sat_inc(cnt_overrun);
                end
            end
            // ---------------------------------------------------- event counters
            if (cnt_clr)          cnt_events <= 32'd0;     // clear wins
            else if (ev_done)     cnt_events <= sat_inc(cnt_events);
            // spikes of the readout in progress (not touched by CNT_CLR)
            if (win_sampled)      spikes_run <= 32'd0;
            else if (spike_taken) spikes_run <= spikes_run + 32'd1;
        end
    end

    // ---------------------------------------------------------------- read mux
    always @* begin
        prdata = 32'd0;
        if (psel && !pwrite) begin
            case (waddr)
                A_ID:         prdata = ID_VALUE;
                A_CTRL:       prdata = {31'd0, en};
                A_STATUS:     prdata = {21'd0, phase, 2'd0, cfg_busy, overrun_st, grst_busy,
                                        prog_done_st, prog_busy, ro_busy};
                A_TICK_DIV:   prdata = {16'd0, tick_div};
                A_WINDOW_LEN: prdata = {8'd0, window_len};
                A_RST_WIDTH:  prdata = {16'd0, rst_width};
                A_PSET_W:     prdata = {16'd0, prog_set_width};
                A_PRST_W:     prdata = {16'd0, prog_rst_width};
                A_PGAP:       prdata = {16'd0, prog_gap};
                A_PADDR:      prdata = {18'd0, prog_target, prog_index_12};
                A_PCODE:      prdata = {24'd0, prog_code};
                A_CNT_EV:     prdata = cnt_events;
                A_CNT_WIN:    prdata = cnt_windows;
                A_CNT_SPK:    prdata = cnt_spikes_last;
                A_CNT_OVR:    prdata = cnt_overrun;
                A_PROBE:      prdata = probe_32;
                A_IRQ_EN:     prdata = {30'd0, irq_en};
                default:      prdata = 32'd0;    // PROG_CMD (W1P) reads 0; unmapped: 0
            endcase
        end
    end

    // pwdata bits no register uses (the usual lowRISC-style idiom: Verilator's default
    // --unused-regexp matches *unused*)
    wire _unused_ok = &{1'b0, pwdata[31:24], paddr[1:0], 1'b0};
endmodule

`default_nettype wire
