/**
 * Pieces of a Hugging Face `tokenizer.json` that the BPE and WordPiece tokenizers share, typed
 * as the `tokenizers` library writes them (snake_case, as in the file).
 */

/** One entry of `added_tokens`: a token matched whole in the text before pre-tokenization. */
export interface HuggingFaceAddedToken {
  /** Its id. */
  id: number;
  /** Its text. */
  content: string;
  /** Only matched as a whole word. */
  single_word: boolean;
  /** Eats the whitespace on its left. */
  lstrip: boolean;
  /** Eats the whitespace on its right. */
  rstrip: boolean;
  /** Matched in the normalized text (true) or the raw text (false). */
  normalized: boolean;
  /** A special token (`[CLS]`, `<|endoftext|>`): `skipSpecialTokens` drops it when decoding. */
  special: boolean;
}

/** A special token in a template: `{ SpecialToken: { id: '[CLS]', type_id: 0 } }`. */
export interface HuggingFaceTemplateSpecial {
  /** The special token. */
  SpecialToken: {
    /** Its name: a key of {@link HuggingFaceTemplateProcessing.special_tokens}. */
    id: string;
    /** The segment id its positions get. */
    type_id: number;
  };
}

/** The encoded text in a template: `{ Sequence: { id: 'A', type_id: 0 } }` (`'B'`: the pair). */
export interface HuggingFaceTemplateSequence {
  /** The sequence. */
  Sequence: {
    /** `'A'`, the first text, or `'B'`, the pair. */
    id: 'A' | 'B';
    /** The segment id its tokens get. */
    type_id: number;
  };
}

/** One piece of a TemplateProcessing template. */
export type HuggingFaceTemplatePiece = HuggingFaceTemplateSpecial | HuggingFaceTemplateSequence;

/** What a template's special-token name stands for. */
export interface HuggingFaceTemplateToken {
  /** The name (the key it is stored under). */
  id: string;
  /** The ids it inserts. */
  ids: number[];
  /** The token strings of those ids. */
  tokens: string[];
}

/** A TemplateProcessing post-processor: where special tokens go around one text or a pair. */
export interface HuggingFaceTemplateProcessing {
  /** Always `'TemplateProcessing'`. */
  type: 'TemplateProcessing';
  /** The template for one text, e.g. `[CLS] A [SEP]`. */
  single: HuggingFaceTemplatePiece[];
  /** The template for a pair, e.g. `[CLS] A [SEP] B [SEP]`. */
  pair: HuggingFaceTemplatePiece[];
  /** Each special-token name of the templates and the tokens it inserts. */
  special_tokens: Record<string, HuggingFaceTemplateToken>;
}
