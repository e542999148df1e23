// BERT's WordPiece tokenizer: train one, encode sentence pairs with truncation and padding,
// decode, and write vocab.txt / tokenizer.json. Run: node examples/wordpiece-tokenizer.mjs
import { WordPieceTokenizer } from 'wasmformer';

const texts = ['the cat sat on the mat.', 'the dog sat on the logs.', 'a cat and a dog met on the mats.'];
const tok = WordPieceTokenizer.train(texts, { vocabSize: 60 }); // lower-cases by default
console.log(tok.tokenize('The cats sat.')); // words split into pieces: ['the', 'cat', '##s', 'sat', '.']
const { inputIds, tokenTypeIds, attentionMask } = tok.encode('the cat sat', 'on the mat', {
  maxLength: 12,
  truncation: 'longest_first',
  padding: 'max_length',
}); // [CLS] A [SEP] B [SEP] [PAD]…, Int32Array each
console.log(Array.from(inputIds).join(' '), '|', Array.from(tokenTypeIds).join(''), '|', Array.from(attentionMask).join(''));
console.log(tok.decode(inputIds, { skipSpecialTokens: true })); // 'the cat sat on the mat'
console.log([tok.clsId, tok.sepId, tok.padId, tok.maskId, tok.unkId]);

const vocabTxt = tok.toVocabTxt(); // vocab.txt, as bert-base-uncased ships it
const fromVocab = WordPieceTokenizer.fromVocabTxt(vocabTxt, { lowercase: true });
const fromJson = WordPieceTokenizer.fromHuggingFace(tok.toHuggingFace()); // tokenizer.json
console.log(
  fromVocab.encode('the dog').inputIds.join() === fromJson.encode('the dog').inputIds.join()
    ? 'same ids from vocab.txt and tokenizer.json'
    : 'ids differ',
);
