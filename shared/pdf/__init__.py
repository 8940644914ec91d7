"""Reading PDFs: pages as printed rows of words and cells, whoever produced the file.

- `read`: a PDF opened page by page with memory kept flat (`PdfSource`), its errors turned into
  ours, and the worker-process entry points for reading page ranges in parallel.
- `text`: the content-stream interpreter that measures every string with its font's widths, so each
  word's printed x extent is known however the producer grouped its text.
- `rows`: rows by baseline, words by touch, cells by gap, and cutting a word at a column's edge.

May import: pypdf, `shared.errors`. Knows nothing of statements, expenses, storage or runtimes.
"""
