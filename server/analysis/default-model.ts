/** The clip model used when none is named: the demo model shipped in models/ (see its CARD.md). */
export const DEFAULT_CLIP_MODEL = 'ftcn_tt_fast_demo';
