# RTL sources of p2m_top in compile order (paths relative to the repository root).
rtl/p2m_sync2.v
rtl/p2m_rst_sync.v
rtl/p2m_timer_cdc.v
rtl/p2m_window_timer.v
rtl/p2m_win_sync.v
rtl/p2m_clk_req.v
rtl/p2m_aer_tx.v
rtl/p2m_reset_seq.v
rtl/p2m_prog_seq.v
rtl/p2m_lsb_enc.v
rtl/p2m_readout_ctrl.v
rtl/p2m_apb_csr.v
rtl/p2m_top.v
