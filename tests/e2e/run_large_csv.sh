# A CSV of two of the reader's 1 MiB pieces (1.99 MB), read in one pass:
# the trial key's csv_sha256 is what sha256sum says of the file, every row
# arrives (rows cut by the pieces, CRLF line ends, quoted and blank-padded
# cells among the plain ones), and a bad cell far past the first piece is
# named by its line and column; a NUL byte further on is reported instead,
# as when the file was read whole before parsing.
source "$(dirname "$0")/run_common.sh"

# Row i (line i + 2): x0 = "D.DDD" (5 characters), x1 = i mod 7, x2 =
# i * 1e-3, label i mod 3; every 997th row has a quoted x1 and a padded x2.
awk 'BEGIN {
    printf "x0,x1,x2,y\r\n"
    for (i = 0; i < 100000; i++) {
        if (i % 997 == 5)
            printf "%d.%03d,\"%d\", %de-3 ,%d\r\n", i % 10, i % 1000, i % 7, i, i % 3
        else
            printf "%d.%03d,%d,%de-3,%d\r\n", i % 10, i % 1000, i % 7, i, i % 3
    }
}' > big.csv
cat > big.yaml <<'YAML'
data:
  source: {csv: big.csv}
  split: {test: 0.25}
model:
  layers:
    - {units: 4, activation: tanh}
    - {units: classes, activation: softmax}
training:
  loss: categorical_crossentropy
  epochs: 1
  batch_size: 256
record: {grid: false, predictions: false}
YAML
run --db "$DB" -q big.yaml
expect_rc 0 "large CSV"
want=$(sha256sum big.csv | cut -d' ' -f1)
got=$(q "SELECT resolved_spec FROM trials" | sed -n 's/.*"csv_sha256":"\([0-9a-f]*\)".*/\1/p')
expect_eq "$got" "$want" "csv_sha256"
expect_eq "$(q "SELECT SUM(count) FROM confusion WHERE split = 'test'")" 25000 "test rows"
expect_eq "$(q 'SELECT name FROM classes ORDER BY class_index')" "$(printf '0\n1\n2')" "classes"

# Row 60000 with x1 = "abc": line 60002, column 7 (after "D.DDD,").
awk 'BEGIN { RS = "\r\n"; ORS = "\r\n" } NR == 60002 { $0 = "0.000,abc,60e0,0" } { print }' \
    big.csv > bad.csv
cp big.yaml bad.yaml
sed -i 's/big.csv/bad.csv/' bad.yaml
run check bad.yaml
expect_rc 2 "bad cell"
expect_eq "$(head -n 1 err.txt)" "bad.csv:60002:7: error: column 'x1': 'abc' is not a finite number" "bad cell"

# ... and a NUL byte in row 90000 (line 90002, column 2): the NUL wins.
{ head -n 90001 bad.csv; printf '0\0.000,1,2,0\r\n'; tail -n +90003 bad.csv; } > nul.csv
sed -i 's/bad.csv/nul.csv/' bad.yaml
run check bad.yaml
expect_rc 2 "NUL after a bad cell"
expect_eq "$(head -n 1 err.txt)" "nul.csv:90002:2: error: NUL byte: the file holds binary data, not CSV text" "NUL after a bad cell"
echo "ok"
