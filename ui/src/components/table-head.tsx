/** A column heading: its text, or `{ num: text }` for a right-aligned number column. */
export type Column = string | { num: string }

/** A table's one row of column headings (`<th scope="col">`), numbers right-aligned. */
export const TableHead = ({ columns }: { columns: Column[] }) => (
  <thead>
    <tr>
      {columns.map((column) =>
        typeof column === "string" ? (
          <th key={column} scope="col">
            {column}
          </th>
        ) : (
          <th key={column.num} scope="col" className="num">
            {column.num}
          </th>
        ),
      )}
    </tr>
  </thead>
)
