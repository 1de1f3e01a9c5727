# shellcheck shell=bash
# The write limit of the warehouse's facts, shared by etl_bench.sh and e2e_bench.sh: the fact rows
# a run wrote, exported, then psql \copy'd into identical empty partitioned tables (same columns,
# defaults, keys and monthly partitions) in a schema `copy_limit` of the same database.

# copy_limit_prepare DB WORK: exports DB's facts to WORK/fact_*.copy, creates the empty copies and
# checkpoints; writes WORK/copy.sql, the \copy script to time (psql -f).
copy_limit_prepare() {
	local db=$1 work=$2
	psql -h 127.0.0.1 -X -v ON_ERROR_STOP=1 -d "$db" -q <<SQL
\\copy (select * from dw.fact_transaction) to '$work/fact_transaction.copy'
\\copy (select * from dw.fact_sales_line) to '$work/fact_sales_line.copy'
create schema copy_limit;
create table copy_limit.fact_transaction (like dw.fact_transaction including all)
  partition by range (sale_date);
create table copy_limit.fact_sales_line (like dw.fact_sales_line including all)
  partition by range (sale_date);
select format('create table copy_limit.%I partition of copy_limit.%I %s',
              c.relname, p.relname, pg_get_expr(c.relpartbound, c.oid))
from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
where p.oid in ('dw.fact_transaction'::regclass, 'dw.fact_sales_line'::regclass)
\\gexec
checkpoint;
SQL
	cat >"$work/copy.sql" <<SQL
\\copy copy_limit.fact_transaction from '$work/fact_transaction.copy'
\\copy copy_limit.fact_sales_line from '$work/fact_sales_line.copy'
SQL
}

# copy_limit_verify DB RECEIPTS LINES: fails (returns 1, says why) unless the copies hold exactly
# RECEIPTS and LINES rows.
copy_limit_verify() {
	local db=$1 receipts=$2 lines=$3 copied copied_lines
	read -r copied copied_lines < <(psql -h 127.0.0.1 -X -v ON_ERROR_STOP=1 -d "$db" -Atc \
		"select count(*), (select count(*) from copy_limit.fact_sales_line)
		 from copy_limit.fact_transaction" | tr '|' ' ')
	if [ "$copied" -ne "$receipts" ] || [ "$copied_lines" -ne "$lines" ]; then
		echo "copy limit: \\copy wrote $copied / $copied_lines rows of $receipts / $lines" >&2
		return 1
	fi
}
