//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// child runs one of the helper processes that cases start: it waits for
// EOF on stdin (the start signal), does its part and reports on stdout.
//
//	append PATH ID N SIZE    append N records of SIZE bytes with O_APPEND
//	excl DIR ID N            O_EXCL-create DIR/r000..; print W or E for each
//	lock PATH r|w START LEN  try F_SETLK; print locked or EAGAIN
//	lockw PATH r|w START LEN F_SETLKW; print locked and the milliseconds it took
//	getlk PATH r|w START LEN F_GETLK; print unlocked, or the type, start,
//	                         length and pid of the conflicting lock
func child(args []string) int {
	if err := childRun(args); err != nil {
		fmt.Println("error:", err)
		return 1
	}
	return 0
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

func childRun(args []string) error {
	var ready func() error
	switch {
	case args[0] == "append" && len(args) == 5:
		id, n, size := args[2][0], atoi(args[3]), atoi(args[4])
		f, err := os.OpenFile(args[1], os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		ready = func() error {
			for seq := 0; seq < n; seq++ {
				if _, err := f.Write(record(id, seq, size)); err != nil {
					return err
				}
			}
			return f.Close()
		}
	case args[0] == "excl" && len(args) == 4:
		dir, id, n := args[1], args[2], atoi(args[3])
		ready = func() error {
			out := make([]byte, 0, 2*n)
			for i := 0; i < n; i++ {
				f, err := os.OpenFile(fmt.Sprintf("%s/r%03d", dir, i), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
				switch {
				case err == nil:
					_, err = f.WriteString(id)
					if cerr := f.Close(); err == nil {
						err = cerr
					}
					if err != nil {
						return err
					}
					out = append(out, "W "...)
				case errors.Is(err, os.ErrExist):
					out = append(out, "E "...)
				default:
					return err
				}
			}
			_, err := os.Stdout.Write(out)
			return err
		}
	case args[0] == "lock" && len(args) == 5:
		f, err := os.OpenFile(args[1], os.O_RDWR, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		typ := int16(unix.F_WRLCK)
		if args[2] == "r" {
			typ = unix.F_RDLCK
		}
		lk := unix.Flock_t{Type: typ, Whence: io.SeekStart, Start: int64(atoi(args[3])), Len: int64(atoi(args[4]))}
		ready = func() error {
			err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk)
			switch {
			case err == nil:
				fmt.Println("locked")
			case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EACCES):
				fmt.Println("EAGAIN")
			default:
				return err
			}
			return nil
		}
	case (args[0] == "lockw" || args[0] == "getlk") && len(args) == 5:
		f, err := os.OpenFile(args[1], os.O_RDWR, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		typ := int16(unix.F_WRLCK)
		if args[2] == "r" {
			typ = unix.F_RDLCK
		}
		lk := unix.Flock_t{Type: typ, Whence: io.SeekStart, Start: int64(atoi(args[3])), Len: int64(atoi(args[4]))}
		if args[0] == "getlk" {
			ready = func() error {
				if err := unix.FcntlFlock(f.Fd(), unix.F_GETLK, &lk); err != nil {
					return fmt.Errorf("F_GETLK: %w", err)
				}
				switch lk.Type {
				case unix.F_UNLCK:
					fmt.Println("unlocked")
				case unix.F_WRLCK:
					fmt.Println("w", lk.Start, lk.Len, lk.Pid)
				case unix.F_RDLCK:
					fmt.Println("r", lk.Start, lk.Len, lk.Pid)
				default:
					return fmt.Errorf("F_GETLK: lock type %d", lk.Type)
				}
				return nil
			}
			break
		}
		ready = func() error {
			// Bounded: the case waits for this process.
			time.AfterFunc(2*time.Minute, func() {
				fmt.Println("error: F_SETLKW still waiting after 2 minutes")
				os.Exit(1)
			})
			t0 := time.Now()
			if err := unix.FcntlFlock(f.Fd(), unix.F_SETLKW, &lk); err != nil {
				return fmt.Errorf("F_SETLKW: %w", err)
			}
			fmt.Println("locked", time.Since(t0).Milliseconds())
			return nil
		}
	default:
		return fmt.Errorf("unknown helper %q", args)
	}
	if _, err := io.Copy(io.Discard, os.Stdin); err != nil {
		return err
	}
	return ready()
}
