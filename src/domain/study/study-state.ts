/**
 * Where a study is in its life. A study is `receiving` until it has been quiet for the quiet period,
 * then `queued` for inference, `judging` while a worker judges it, and `judged` once its case is saved;
 * `failed` when its inference job was dead-lettered (an operator may retry it). A new instance sends it
 * back to `receiving` from any state, and it is judged again as a whole: the new case supersedes the
 * old one (ports/case-store.ts). Superseded is a case's state, not a study's.
 */
export const STUDY_STATES = ['receiving', 'queued', 'judging', 'judged', 'failed'] as const;
export type StudyState = (typeof STUDY_STATES)[number];
