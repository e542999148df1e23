// TypeDoc plugin for the API reference (typedoc.json): puts each top-level export in the
// category of the source folder it comes from, the grouping of ts/src/index.ts, so the
// reference reads Runtime / Models / Training / Tokenizers / I/O / Kernels / Data / Errors.
// It only adds a `@category` tag to a doc comment that exists: an undocumented export still
// fails the build (validation.notDocumented).
import { CommentTag, Converter, ReflectionKind } from 'typedoc';

const CATEGORIES = [
  [/\/ts\/src\/wasm\//, 'Runtime'],
  [/\/ts\/src\/models\//, 'Models'],
  [/\/ts\/src\/train\//, 'Training'],
  [/\/ts\/src\/tokenizers\//, 'Tokenizers'],
  [/\/ts\/src\/io\//, 'I/O'],
  [/\/ts\/src\/(kernels\/|diagnostics\.ts$)/, 'Kernels'],
  [/\/ts\/src\/data\//, 'Data'],
  [/\/ts\/src\/errors\.ts$/, 'Errors'],
];

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const reflection of Object.values(context.project.reflections)) {
      if (!reflection.isDeclaration() || !reflection.parent?.kindOf(ReflectionKind.Module | ReflectionKind.Project)) continue;
      const file = context.getSymbolFromReflection(reflection)?.declarations?.[0]?.getSourceFile().fileName;
      // `export * as kernels from …` is declared in index.ts; its members come from kernels/.
      const category =
        reflection.kindOf(ReflectionKind.Namespace) && reflection.name === 'kernels'
          ? 'Kernels'
          : file && CATEGORIES.find(([pattern]) => pattern.test(file))?.[1];
      const comment = reflection.comment ?? reflection.signatures?.find((s) => s.comment)?.comment;
      if (!category || !comment || comment.blockTags.some((t) => t.tag === '@category')) continue;
      comment.blockTags.push(new CommentTag('@category', [{ kind: 'text', text: category }]));
    }
  });
}
