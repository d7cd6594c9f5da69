// p2m_prog_seq: programming sequencer for the weight and threshold MDWMTJs
// (contract: rtl/REGISTERS.md "Programming pulse timing"; docs/rtl.md "Programming sequencer").
//
// One START programs one device (ana_prog_target, ana_prog_index) to a code:
//   1. one reset pulse (ana_prog_dir = 1: negative current, DW to q = 0) of rst_width cycles,
//   2. then `code` set pulses (ana_prog_dir = 0: one code step each) of set_width cycles,
// with `gap` idle cycles (ana_prog low) between two pulses. After the reset pulse the gap is
// max(gap, 2) cycles, because ana_prog_dir changes in it and must be stable one cycle
// before a pulse rises and one cycle after it falls. Target and index are stable during
// the whole sequence.
// Timing of a START taken at clk edge E (widths sampled from the CSR, which refuses PROG_*
// writes while busy, so they cannot change mid-sequence):
//   E                      : busy = 1; target, index loaded, dir = 1 (setup cycle)
//   E+1                    : reset pulse rises; falls at E+1+rst_width
//   E+1+rst_width+max(gap,2): first set pulse rises, and so on, `gap` between set pulses
//   last fall F            : hold cycle (targets unchanged), done = 1 in it
//   F+1                    : busy = 0, targets return to 0
// Busy cycles: 2 + rst_width + max(gap,2) - gap + code * (gap + set_width) when code > 0,
// 2 + rst_width when code = 0.
`timescale 1ns / 1ps
`default_nettype none

module p2m_prog_seq #(
    parameter IDX_BITS  = 10,
    parameter CODE_BITS = 8
) (
    input  wire                 clk,
    input  wire                 rst_n,
    input  wire                 start,        // PROG_CMD.START accepted (pulse)
    input  wire [1:0]           target,       // PROG_ADDR.TARGET
    input  wire [IDX_BITS-1:0]  index,        // PROG_ADDR.INDEX
    input  wire [CODE_BITS-1:0] code,         // PROG_CODE: set pulses after the reset pulse
    input  wire [15:0]          set_width,    // cycles (>= 1)
    input  wire [15:0]          rst_width,    // cycles (>= 1)
    input  wire [15:0]          gap,          // cycles (>= 1)
    output wire                 busy,
    output wire                 done,         // 1 in the hold cycle: the sequence ends at the next edge
    output reg                  ana_prog,
    output reg  [1:0]           ana_prog_target,
    output reg  [IDX_BITS-1:0]  ana_prog_index,
    output reg                  ana_prog_dir
);
    localparam [2:0] P_IDLE  = 3'd0,
                     P_SETUP = 3'd1,
                     P_PULSE = 3'd2,
                     P_GAP   = 3'd3,
                     P_HOLD  = 3'd4;

    reg [2:0]           pstate;
    reg [15:0]          cnt;
    reg [CODE_BITS-1:0] remaining;        // set pulses still to send

    // gap after the reset pulse: at least 2 cycles (dir changes in its first cycle)
    wire [15:0] gap_after_reset = (gap < 16'd2) ? 16'd2 : gap;

    assign busy = (pstate != P_IDLE);
    assign done = (pstate == P_HOLD);

    // the clocked block below changes nothing at other edges (a superset of its
    // conditions: an event-driven simulator then evaluates its body only at such edges;
    // docs/rtl.md "Simulation speed")
    wire act = (pstate != P_IDLE) || start;

    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            pstate          <= P_IDLE;
            cnt             <= 16'd0;
            remaining       <= {CODE_BITS{1'b0}};
            ana_prog        <= 1'b0;
            ana_prog_target <= 2'd0;
            ana_prog_index  <= {IDX_BITS{1'b0}};
            ana_prog_dir    <= 1'b0;
        end else if (act) begin
            case (pstate)
                P_IDLE: if (start) begin
                    ana_prog_target <= target;
                    ana_prog_index  <= index;
                    ana_prog_dir    <= 1'b1;
                    remaining       <= code;
                    cnt             <= rst_width - 16'd1;
                    pstate          <= P_SETUP;
                end
                P_SETUP: begin
                    ana_prog <= 1'b1;
                    pstate   <= P_PULSE;
                end
                P_PULSE: begin
                    if (cnt == 16'd0) begin
                        ana_prog <= 1'b0;
                        if (remaining == {CODE_BITS{1'b0}}) begin
                            pstate <= P_HOLD;
                        end else begin
                            cnt    <= (ana_prog_dir ? gap_after_reset : gap) - 16'd1;
                            pstate <= P_GAP;
                        end
                    end else begin
                        cnt <= cnt - 16'd1;
                    end
                end
                P_GAP: begin
                    ana_prog_dir <= 1'b0;
                    if (cnt == 16'd0) begin
                        ana_prog  <= 1'b1;
                        cnt       <= set_width - 16'd1;
                        remaining <= remaining - {{(CODE_BITS-1){1'b0}}, 1'b1};
                        pstate    <= P_PULSE;
                    end else begin
                        cnt <= cnt - 16'd1;
                    end
                end
                default: begin  // P_HOLD
                    ana_prog_target <= 2'd0;
                    ana_prog_index  <= {IDX_BITS{1'b0}};
                    ana_prog_dir    <= 1'b0;
                    pstate          <= P_IDLE;
                end
            endcase
        end
    end
endmodule

`default_nettype wire
